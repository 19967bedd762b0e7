package vmtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestELFDeps compares elfDeps on this test binary with ldd's answer.
func TestELFDeps(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	objs, dirs, err := elfDeps(exe)
	if err != nil {
		t.Fatal(err)
	}
	out, lddErr := exec.Command("ldd", exe).CombinedOutput()
	if lddErr != nil {
		// A static binary (CGO_ENABLED=0, no -race) needs nothing.
		if len(objs) != 0 {
			t.Errorf("ldd says %q (%v) but elfDeps found %v", out, lddErr, objs)
		}
		t.Skipf("not dynamically linked (ldd: %s)", strings.TrimSpace(string(out)))
	}
	dest := map[string]bool{}
	for _, o := range objs {
		dest[o.Dest] = true
		if fi, err := os.Stat(o.Src); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: source %s: %v", o.Dest, o.Src, err)
		}
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			if !dest[f[2]] {
				t.Errorf("ldd resolves %s to %s; elfDeps has %v", f[0], f[2], objs)
			}
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"): // the interpreter
			if !dest[f[0]] {
				t.Errorf("interpreter %s missing from %v", f[0], objs)
			}
		}
	}
	if len(dirs) == 0 {
		t.Error("no library directories")
	}
}

func TestLdSoConf(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(dir+"/"+name, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(dir+"/d", 0o755); err != nil {
		t.Fatal(err)
	}
	write("ld.so.conf", "include d/*.conf\n/opt/lib # comment\n\nrelative/ignored\n")
	write("d/x.conf", "# libc\n/usr/local/lib\n")
	got := strings.Join(ldSoConfDirs(dir+"/ld.so.conf", 0), ":")
	if got != "/usr/local/lib:/opt/lib" {
		t.Errorf("dirs = %s", got)
	}
}
