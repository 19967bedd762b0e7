package vmtest

import (
	"strings"
	"testing"
	"time"
)

func TestConsole(t *testing.T) {
	const m = "BULWARK-VMTEST-0011223344556677"
	in := "\x1bc\x1b[?7lSeaBIOS (version 1)\r\n" +
		m + " init\r\n" +
		"[    1.0] random kernel line\n" +
		m + " modules\n" +
		m + " insmod-failed /lib/modules/x/a.ko\n" +
		"=== RUN   TestA\n--- PASS: TestA (0.01s)\n" +
		"    --- SKIP: TestA/sub (0.00s)\n" + // a subtest: not counted
		"--- SKIP: TestB (0.00s)\n--- FAIL: TestC (0.00s)\n" +
		"[    2.0] x" + m + " exit=3\n" // interleaved with a kernel line
	c := newConsole(m, time.Now())
	var logged []string
	c.read(strings.NewReader(in), func(s string) { logged = append(logged, s) })
	if !c.exited || c.exitCode != 3 {
		t.Errorf("exited=%v code=%d, want exit 3", c.exited, c.exitCode)
	}
	if c.passed != 1 || c.skipped != 1 || c.failed != 1 {
		t.Errorf("pass/skip/fail = %d/%d/%d, want 1/1/1", c.passed, c.skipped, c.failed)
	}
	if len(c.insmodFailed) != 1 || c.insmodFailed[0] != "/lib/modules/x/a.ko" {
		t.Errorf("insmodFailed = %v", c.insmodFailed)
	}
	if c.boot <= 0 || c.modules < c.boot || c.end < c.modules {
		t.Errorf("boot %v, modules %v, end %v", c.boot, c.modules, c.end)
	}
	if logged[0] != "SeaBIOS (version 1)" {
		t.Errorf("first line = %q, want escapes and CR removed", logged[0])
	}
}

func TestConsoleNoMarker(t *testing.T) {
	c := newConsole("BULWARK-VMTEST-aa", time.Now())
	c.read(strings.NewReader("Kernel panic - not syncing: VFS\nBULWARK-VMTEST-bb exit=0\ntesting: warning: no tests to run\n"), func(string) {})
	if c.exited {
		t.Error("another run's marker was taken for ours")
	}
	if !c.noTests {
		t.Error("no-tests warning not seen")
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"ok", Options{Run: "^TestX$", Env: []string{"A_1=x y"}, Args: []string{"-test.short"}}, ""},
		{"no run", Options{}, "Run is empty"},
		{"newline", Options{Run: "a\nb"}, "newline"},
		{"bad env name", Options{Run: "x", Env: []string{"1A=x"}}, "not a variable name"},
		{"env no equals", Options{Run: "x", Env: []string{"A"}}, "not KEY=value"},
		{"env newline", Options{Run: "x", Env: []string{"A=x\ny"}}, "newline"},
		{"negative timeout", Options{Run: "x", Timeout: -time.Second}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("validate = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestVersionLess(t *testing.T) {
	if !versionLess("6.1.0-56-amd64", "6.1.0-112-amd64") || versionLess("6.10.0-1-amd64", "6.9.0-1-amd64") {
		t.Error("kernel versions misordered")
	}
}
