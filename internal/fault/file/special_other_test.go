//go:build !linux

package file_test

import (
	"os"
	"path/filepath"
	"testing"
)

var systemFile = filepath.Join(os.Getenv("SystemRoot"), "System32", "drivers", "etc", "hosts")

// specialFiles has nothing to add off Linux: symlinks need a privilege on
// Windows, and there are no FIFOs.
func specialFiles(t *testing.T, root, outside, secret string) []badCase { return nil }
