//go:build !linux

package exhaust
