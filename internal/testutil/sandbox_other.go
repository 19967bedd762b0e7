//go:build !linux

package testutil

import "testing"

// Sandbox is unavailable off Linux: it skips t (fails it when CI=true) and
// returns false. See the Linux documentation for the idiom.
func Sandbox(t *testing.T) bool {
	t.Helper()
	Require(t, CapSandbox)
	return false
}
