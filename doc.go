// Package bulwark holds Bulwark's domain: faults, their states and evidence,
// the typed parameter values every part of the platform parses the same way,
// identifiers and errors. It imports only the standard library; every other
// package imports it, never the other way round.
package bulwark
