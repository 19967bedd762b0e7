package probe_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/probe"
)

// allow returns an allow-list of paths with their current hashes.
func allow(t *testing.T, paths ...string) *probe.AllowList {
	t.Helper()
	a := probe.NewAllowList()
	for _, p := range paths {
		if err := a.Add(p, sha256File(t, p)); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// writeScript writes an executable file into dir and returns its path.
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCommandProbe(t *testing.T) {
	dir := t.TempDir()
	exit3 := writeScript(t, dir, "exit3", "#!/bin/sh\necho failing on purpose >&2\nexit 3\n")
	sleeper := writeScript(t, dir, "sleeper", "#!/bin/sh\nexec sleep 30\n")
	noInterp := writeScript(t, dir, "nointerp", "#!/bin/sh\nexit 0\n")
	list := allow(t, "/bin/true", "/bin/false", "/bin/sh", exit3, sleeper)
	if err := list.Add(noInterp, sha256File(t, noInterp)); err != nil {
		t.Fatal(err)
	}
	shOnly := allow(t, noInterp) // the script but not its interpreter

	cases := []struct {
		name    string
		cfg     probe.CommandConfig
		list    *probe.AllowList
		ok      bool
		errPart string
	}{
		{"true", probe.CommandConfig{Argv: []string{"/bin/true"}}, list, true, ""},
		{"false", probe.CommandConfig{Argv: []string{"/bin/false"}}, list, false, "exited 1, want 0"},
		{"false expected", probe.CommandConfig{Argv: []string{"/bin/false"}, ExpectExit: 1}, list, true, ""},
		{"script exit 3", probe.CommandConfig{Argv: []string{exit3, "arg"}, ExpectExit: 3}, list, true, ""},
		{"script output in error", probe.CommandConfig{Argv: []string{exit3}}, list, false, "failing on purpose"},
		{"timeout kills", probe.CommandConfig{Argv: []string{sleeper}, Timeout: bulwark.Duration(200 * time.Millisecond)}, list, false, "deadline exceeded"},
		{"interpreter not allowed", probe.CommandConfig{Argv: []string{noInterp}}, shOnly, false, "interpreter of"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustProbe(t, "cmd", &tc.cfg, probe.Options{AllowList: tc.list})
			r := check(t, p)
			if r.OK != tc.ok || !strings.Contains(r.Err, tc.errPart) {
				t.Fatalf("Check = %+v, want ok=%v err~%q", r, tc.ok, tc.errPart)
			}
			if r.Latency > 5*time.Second {
				t.Errorf("took %v", r.Latency)
			}
		})
	}
}

func TestCommandNotAllowListed(t *testing.T) {
	list := allow(t, "/bin/true")
	cfg := &probe.CommandConfig{Argv: []string{"/bin/false"}}
	_, err := probe.New("cmd", cfg, probe.Options{AllowList: list})
	if !errors.Is(err, probe.ErrNotAllowed) {
		t.Fatalf("New with /bin/false off the list: err = %v, want ErrNotAllowed", err)
	}
	if _, err := probe.New("cmd", cfg, probe.Options{}); !errors.Is(err, probe.ErrNotAllowed) {
		t.Fatalf("New with no allow-list: err = %v, want ErrNotAllowed", err)
	}
}

// TestCommandReplacedBinary pins a copy of /bin/true, then swaps the path for
// /bin/false: the next check must refuse to run it.
func TestCommandReplacedBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "check")
	copyFile(t, "/bin/true", bin)
	list := allow(t, bin)
	p := mustProbe(t, "cmd", &probe.CommandConfig{Argv: []string{bin}}, probe.Options{AllowList: list})
	if r := check(t, p); !r.OK {
		t.Fatalf("pinned binary: %+v", r)
	}
	copyFile(t, "/bin/false", bin+".new")
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	r := check(t, p)
	if r.OK || !strings.Contains(r.Err, "allow-list pins") {
		t.Fatalf("replaced binary: %+v, want a SHA-256 mismatch", r)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestParseAllowList(t *testing.T) {
	sum := sha256File(t, "/bin/true")
	good := fmt.Sprintf("# checks\n\n%s  /bin/true\n%s */opt/x/check\n", sum, strings.ToUpper(sum))
	a, err := probe.ParseAllowList(strings.NewReader(good))
	if err != nil || a.Len() != 2 {
		t.Fatalf("ParseAllowList(good) = %v, %v", a, err)
	}
	if _, ok := a.Sum("/opt/x/check"); !ok {
		t.Error("binary-mode line not loaded")
	}
	bad := map[string]string{
		"relative path": sum + "  bin/true\n",
		"short sum":     "abcd  /bin/true\n",
		"no path":       sum + "\n",
		"unclean path":  sum + "  /bin/../bin/true\n",
	}
	for name, text := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := probe.ParseAllowList(strings.NewReader(text)); err == nil || !strings.Contains(err.Error(), "line 1") {
				t.Fatalf("err = %v, want one naming line 1", err)
			}
		})
	}
}

func TestLoadAllowListPermissions(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "allow.txt")
	if err := os.WriteFile(p, []byte(sha256File(t, "/bin/true")+"  /bin/true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if a, err := probe.LoadAllowList(p); err != nil || a.Len() != 1 {
		t.Fatalf("LoadAllowList(0644) = %v, %v", a, err)
	}
	if err := os.Chmod(p, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := probe.LoadAllowList(p); err == nil || !strings.Contains(err.Error(), "writable") {
		t.Fatalf("LoadAllowList(0666) err = %v, want a refusal", err)
	}
}
