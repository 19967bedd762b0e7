package vmtest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// cacheFormat changes whenever the layout of the cached base archive does.
const cacheFormat = "vmtest-base-1"

// etcFiles are the minimal /etc of the VM, name and content in turn (the
// sandbox shadows /etc/hosts, so it must exist).
func etcFiles() []string {
	return []string{
		"etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
		"etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group", "root:x:0:\nnogroup:x:65534:\n",
		"etc/nsswitch.conf", "hosts: files dns\n",
	}
}

// baseArchive returns the path of the cached base archive for p and the
// modules (in load order, relative to the modules directory): busybox and its
// applet links, /init, a minimal /etc, device nodes for the console and the
// modules. It is built once per kernel, module list and busybox and kept
// under os.UserCacheDir()/bulwark-vmtest (the system temp directory when
// there is no user cache directory).
func baseArchive(p parts, modules []loadItem) (string, error) {
	key, err := baseKey(p, modules)
	if err != nil {
		return "", err
	}
	dir, err := cacheDir()
	if err != nil {
		return "", err
	}
	file := filepath.Join(dir, "base-"+p.Kernel.Version+"-"+key[:16]+".cpio")
	if _, err := os.Stat(file); err == nil {
		return file, nil
	}
	tmp, err := os.CreateTemp(dir, ".base-*.cpio")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := writeBase(bw, p, modules); err != nil {
		tmp.Close()
		return "", fmt.Errorf("build base initramfs: %w", err)
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", err
	}
	// Concurrent builders write the same content; the last rename wins.
	return file, os.Rename(tmp.Name(), file)
}

// cacheDir returns (creating it) the directory of cached base archives.
func cacheDir() (string, error) {
	root, err := os.UserCacheDir()
	if err != nil {
		root = os.TempDir()
	}
	dir := filepath.Join(root, "bulwark-vmtest")
	return dir, os.MkdirAll(dir, 0o755)
}

// baseKey hashes everything the base archive is made of: the format, /init,
// the kernel version and, for busybox and each module, its path, size and
// modification time.
func baseKey(p parts, modules []loadItem) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%q\n%s\n", cacheFormat, initScript, etcFiles(), p.Kernel.Version)
	files := []string{p.Busybox, filepath.Join(p.Kernel.ModDir, "modules.dep")}
	for _, m := range modules {
		files = append(files, filepath.Join(p.Kernel.ModDir, m.Path))
		fmt.Fprintf(h, "optional=%v\n", m.Optional)
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d %d\n", f, fi.Size(), fi.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeBase writes the base archive to w.
func writeBase(w io.Writer, p parts, modules []loadItem) error {
	c := newCPIOWriter(w)
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "run", "root", "vmtest"} {
		c.Dir(d, 0o755)
	}
	c.Dir("tmp", 0o1777)
	c.CharDev("dev/console", 0o600, 5, 1)
	c.CharDev("dev/null", 0o666, 1, 3)
	if err := c.CopyFile("bin/busybox", p.Busybox); err != nil {
		return err
	}
	applets, err := busyboxApplets(p.Busybox)
	if err != nil {
		return err
	}
	for _, a := range applets {
		if a != "bin/busybox" {
			c.Symlink(a, "/bin/busybox")
		}
	}
	etc := etcFiles()
	for i := 0; i < len(etc); i += 2 {
		c.File(etc[i], 0o644, []byte(etc[i+1]))
	}
	c.File("init", 0o755, []byte(initScript))
	var list strings.Builder
	modRoot := path.Join("lib/modules", p.Kernel.Version)
	for _, m := range modules {
		dest := path.Join(modRoot, filepath.ToSlash(m.Path))
		if err := c.CopyFile(dest, filepath.Join(p.Kernel.ModDir, m.Path)); err != nil {
			return err
		}
		if m.Optional {
			list.WriteString("? ")
		}
		list.WriteString("/" + dest + "\n")
	}
	c.File("vmtest/modules", 0o644, []byte(list.String()))
	return c.Close()
}

// busyboxApplets returns the applet paths busybox installs ("bin/sh", "sbin/ip"…).
func busyboxApplets(busybox string) ([]string, error) {
	out, err := exec.Command(busybox, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list-full: %w", busybox, err)
	}
	var applets []string
	for _, l := range strings.Fields(string(out)) {
		if n := cleanName(l); n != "" && !strings.Contains(n, "..") {
			applets = append(applets, n)
		}
	}
	if len(applets) == 0 {
		return nil, fmt.Errorf("%s --list-full listed no applets", busybox)
	}
	return applets, nil
}

// runFiles is what varies per run: it goes into the second archive.
type runFiles struct {
	Test   string         // host path of the test binary
	Libs   []sharedObject // its loader and libraries
	Marker string         // "BULWARK-VMTEST <nonce>"
	Args   []string       // its arguments, one per line (no newlines)
	Env    []string       // KEY=value, one per line (no newlines)
	Dir    string         // working directory in the VM
}

// writeRun writes the per-run archive to w.
func writeRun(w io.Writer, r runFiles) error {
	c := newCPIOWriter(w)
	if err := c.CopyFile("vmtest/run/test", r.Test); err != nil {
		return err
	}
	for _, o := range r.Libs {
		if err := c.CopyFile(o.Dest, o.Src); err != nil {
			return err
		}
	}
	c.File("vmtest/run/marker", 0o644, []byte(r.Marker+"\n"))
	c.File("vmtest/run/args", 0o644, lines(r.Args))
	c.File("vmtest/run/env", 0o644, lines(r.Env))
	c.File("vmtest/run/dir", 0o644, []byte(r.Dir+"\n"))
	return c.Close()
}

// lines joins ss with a newline after each.
func lines(ss []string) []byte {
	var b bytes.Buffer
	for _, s := range ss {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
