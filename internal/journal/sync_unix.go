//go:build !windows

package journal

func isUnsupportedSync(error) bool { return false }
