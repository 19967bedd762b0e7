package vmtest

import (
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// Mode bits of a newc cpio entry (the S_IF* file types of stat(2)).
const (
	cpioDir     = 0o040000
	cpioFile    = 0o100000
	cpioSymlink = 0o120000
	cpioCharDev = 0o020000
)

// cpioWriter writes an archive in the "newc" (SVR4, no CRC) format the kernel
// unpacks into the initramfs. Parent directories are emitted before the first
// entry below them, because the kernel creates each entry with a plain open and
// does not create missing parents. Names are relative ("bin/sh").
type cpioWriter struct {
	w    io.Writer
	n    int64           // bytes written, for padding
	ino  uint32          // last inode number handed out
	seen map[string]bool // names already written (a repeated name is a bug)
	err  error
}

func newCPIOWriter(w io.Writer) *cpioWriter {
	return &cpioWriter{w: w, seen: map[string]bool{}}
}

// Dir adds the directory name (and its missing parents).
func (c *cpioWriter) Dir(name string, perm os.FileMode) error {
	name = cleanName(name)
	if name == "" || c.seen[name] {
		return c.err
	}
	c.parents(name)
	return c.entry(name, cpioDir|uint32(perm.Perm()), 0, 0, nil, 0)
}

// File adds the regular file name with content data.
func (c *cpioWriter) File(name string, perm os.FileMode, data []byte) error {
	return c.FileFrom(name, perm, strings.NewReader(string(data)), int64(len(data)))
}

// FileFrom adds the regular file name holding the size bytes read from r.
func (c *cpioWriter) FileFrom(name string, perm os.FileMode, r io.Reader, size int64) error {
	name = cleanName(name)
	c.parents(name)
	return c.entry(name, cpioFile|uint32(perm.Perm()), 0, 0, r, size)
}

// CopyFile adds the regular file name with the content and permissions of the
// host file src (symlinks followed).
func (c *cpioWriter) CopyFile(name, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", src)
	}
	return c.FileFrom(name, fi.Mode().Perm(), f, fi.Size())
}

// Symlink adds the symbolic link name pointing at target.
func (c *cpioWriter) Symlink(name, target string) error {
	name = cleanName(name)
	c.parents(name)
	return c.entry(name, cpioSymlink|0o777, 0, 0, strings.NewReader(target), int64(len(target)))
}

// CharDev adds the character device node name (major, minor).
func (c *cpioWriter) CharDev(name string, perm os.FileMode, major, minor uint32) error {
	name = cleanName(name)
	c.parents(name)
	return c.entry(name, cpioCharDev|uint32(perm.Perm()), major, minor, nil, 0)
}

// Close writes the trailer. It does not close the underlying writer.
func (c *cpioWriter) Close() error {
	return c.entry("TRAILER!!!", 0, 0, 0, nil, 0)
}

// parents emits every missing parent directory of name.
func (c *cpioWriter) parents(name string) {
	if dir := path.Dir(name); dir != "." && !c.seen[dir] {
		_ = c.Dir(dir, 0o755) // an error sticks in c.err
	}
}

// entry writes one header, name and data, each padded to 4 bytes.
func (c *cpioWriter) entry(name string, mode, rmajor, rminor uint32, data io.Reader, size int64) error {
	if c.err != nil {
		return c.err
	}
	if c.seen[name] {
		c.err = fmt.Errorf("cpio: %s added twice", name)
		return c.err
	}
	if size > 0xffffffff {
		c.err = fmt.Errorf("cpio: %s is %d bytes, over newc's 4 GiB limit", name, size)
		return c.err
	}
	c.seen[name] = true
	ino := uint32(0)
	if name != "TRAILER!!!" {
		c.ino++
		ino = c.ino
	}
	nlink := uint32(1)
	if mode&0o170000 == cpioDir {
		nlink = 2
	}
	// magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
	// rdevmajor, rdevminor, namesize (with the NUL), check.
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, mode, 0, 0, nlink, 0, size, 0, 0, rmajor, rminor, len(name)+1, 0)
	c.write([]byte(hdr + name + "\x00"))
	c.pad()
	if data != nil && c.err == nil {
		n, err := io.CopyN(c.w, data, size)
		c.n += n
		if err != nil {
			c.err = fmt.Errorf("cpio: write %s: %w", name, err)
		}
	}
	c.pad()
	return c.err
}

func (c *cpioWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

// pad writes zeros up to the next multiple of 4.
func (c *cpioWriter) pad() {
	if r := c.n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

// cleanName makes an archive name relative and clean ("/bin/sh" → "bin/sh").
func cleanName(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}
