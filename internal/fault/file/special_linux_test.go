package file_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

const systemFile = "/etc/passwd"

// specialFiles makes, in root, symlinks and a hard link leading outside it
// and a FIFO, and returns the bad input that names them.
func specialFiles(t *testing.T, root, outside, secret string) []badCase {
	in := func(name string) string { return filepath.Join(root, name) }
	must(t, os.Symlink(systemFile, in("to-passwd")))
	must(t, os.Symlink(secret, in("to-secret")))
	must(t, os.Symlink(outside, in("outdir")))
	must(t, os.Link(secret, in("hardlink")))
	must(t, syscall.Mkfifo(in("fifo"), 0o600))
	return []badCase{
		{"symlink to passwd", map[string]string{"path": in("to-passwd")}, "path", "outside the file roots"},
		{"symlink to outside file", map[string]string{"path": in("to-secret")}, "path", "outside the file roots"},
		{"through symlinked dir", map[string]string{"path": in("outdir/secret")}, "path", "outside the file roots"},
		{"hard link to outside file", map[string]string{"path": in("hardlink")}, "path", "hard links"},
		{"fifo", map[string]string{"path": in("fifo")}, "path", "not a regular file"},
	}
}

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func dev(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return uint64(fi.Sys().(*syscall.Stat_t).Dev)
}

func ownerUID(fi os.FileInfo) int { return int(fi.Sys().(*syscall.Stat_t).Uid) }
