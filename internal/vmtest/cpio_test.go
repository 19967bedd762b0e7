package vmtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// writeTestArchive writes an archive with nested files, a symlink and an
// empty file, and returns it.
func writeTestArchive(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	c := newCPIOWriter(&buf)
	c.File("/a/b/c.txt", 0o640, []byte("hello\n"))
	c.File("a/odd", 0o755, []byte("12345")) // odd length: padding
	c.File("empty", 0o644, nil)
	c.Symlink("a/link", "b/c.txt")
	c.Dir("d/e", 0o700)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%4 != 0 {
		t.Errorf("archive length %d is not a multiple of 4", buf.Len())
	}
	return buf.Bytes()
}

func TestCPIOHeader(t *testing.T) {
	b := writeTestArchive(t)
	// The first entry is the implicit parent "a", a directory.
	if got := string(b[:6]); got != "070701" {
		t.Fatalf("magic = %q", got)
	}
	if mode := string(b[14:22]); mode != "000041ed" {
		t.Errorf("first entry mode = %s, want 000041ed (directory 0755)", mode)
	}
	if !bytes.Contains(b, []byte("TRAILER!!!\x00")) {
		t.Error("no trailer")
	}
}

func TestCPIODuplicate(t *testing.T) {
	c := newCPIOWriter(&bytes.Buffer{})
	c.File("x", 0o644, []byte("1"))
	if err := c.File("/x", 0o644, []byte("2")); err == nil || !strings.Contains(err.Error(), "added twice") {
		t.Fatalf("second x: %v, want an error", err)
	}
	if err := c.Close(); err == nil {
		t.Fatal("Close after an error succeeded")
	}
}

// TestCPIOExtract extracts the archive with busybox cpio, an independent reader.
func TestCPIOExtract(t *testing.T) {
	bb, err := findBusybox()
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(bb, "cpio", "-i", "-d", "-m")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(writeTestArchive(t))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("busybox cpio -i: %v\n%s", err, out)
	}
	for name, want := range map[string]string{"a/b/c.txt": "hello\n", "a/odd": "12345", "empty": "", "a/link": "hello\n"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if target, err := os.Readlink(filepath.Join(dir, "a/link")); err != nil || target != "b/c.txt" {
		t.Errorf("a/link -> %q, %v", target, err)
	}
	for name, want := range map[string]os.FileMode{"a/b/c.txt": 0o640, "a/odd": 0o755, "d/e": 0o700 | os.ModeDir} {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil || fi.Mode()&(os.ModePerm|os.ModeDir) != want {
			t.Errorf("%s mode = %v, %v; want %v", name, fi.Mode(), err, want)
		}
	}
}
