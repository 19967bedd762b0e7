package script_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	_ "github.com/bulwarkhq/bulwark/internal/fault/script"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

const kindID = "script.run"

func TestMain(m *testing.M) { faulttest.Main(m) }

// argv renders a command as the JSON array --inject and --recover take.
func argv(a ...string) string {
	b, _ := json.Marshal(a)
	return string(b)
}

// sumOf returns the hex SHA-256 of the file at path.
func sumOf(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// writeAllowList writes a 0600 allow-list pinning each path's current bytes.
func writeAllowList(t testing.TB, file string, paths ...string) {
	t.Helper()
	var b strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&b, "%s  %s\n", sumOf(t, p), p)
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

type env struct {
	root, state string
	host        *fault.Host
	m           *hostmgr.Manager
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("script.run needs Linux")
	}
	e := &env{root: t.TempDir(), state: t.TempDir()}
	e.host = fault.DefaultHost(e.state)
	e.host.FileRoots = []string{e.root}
	e.m = e.open(t)
	return e
}

func (e *env) open(t *testing.T) *hostmgr.Manager {
	t.Helper()
	m, err := hostmgr.Open(context.Background(), hostmgr.Config{StateDir: e.state, Host: e.host})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func (e *env) inject(params map[string]string) (*bulwark.Fault, error) {
	return e.m.Inject(context.Background(), bulwark.FaultSpec{Kind: kindID, Params: params, Duration: bulwark.Duration(time.Minute)})
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestContract runs the contract suite in the sandbox: touch makes a file in
// the sandbox's file root, rm takes it away.
func TestContract(t *testing.T) {
	var file string
	faulttest.Run(t, kindID, faulttest.Case{
		Name: "touch and rm",
		Setup: func(t *testing.T, h *fault.Host) map[string]string {
			writeAllowList(t, filepath.Join(h.StateDir, "allow-list"), "/usr/bin/touch", "/bin/rm")
			file = filepath.Join(h.FileRoots[0], "drill-flag")
			return map[string]string{"inject": argv("/usr/bin/touch", file), "recover": argv("/bin/rm", "--", file)}
		},
		Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
			if !exists(file) {
				t.Errorf("%s missing while the fault is active", file)
			}
		},
		Gone: func(t *testing.T, h *fault.Host) {
			if exists(file) {
				t.Errorf("%s still there after recover", file)
			}
		},
	})
}

func TestInjectRecover(t *testing.T) {
	e := newEnv(t)
	list := filepath.Join(e.state, "allow-list")
	writeAllowList(t, list, "/bin/true", "/usr/bin/touch", "/bin/rm")
	file := filepath.Join(e.root, "flag")

	// /bin/true on both sides, the list found in the state directory.
	f, err := e.inject(map[string]string{"inject": argv("/bin/true"), "recover": argv("/bin/true", "ignored", "args")})
	if err != nil || f.State != bulwark.StateActive {
		t.Fatalf("inject /bin/true: %v %+v", err, f)
	}
	if out, err := e.m.Recover(context.Background(), f.ID); err != nil || out[0].State != bulwark.StateRecovered {
		t.Fatalf("recover: %v %+v", err, out)
	}

	// touch, then rm: the rm runs once however often recovery runs.
	f, err = e.inject(map[string]string{"inject": argv("/usr/bin/touch", file), "recover": argv("/bin/rm", file)})
	if err != nil || f.State != bulwark.StateActive {
		t.Fatalf("inject touch: %v %+v", err, f)
	}
	if !exists(file) {
		t.Fatal("touch did not run")
	}
	text := ""
	for _, ev := range f.Evidence {
		text += ev.Check + ": " + ev.Detail + "\n"
	}
	if !strings.Contains(text, "exited 0") || !strings.Contains(text, "sha256:"+sumOf(t, "/bin/rm")) {
		t.Errorf("evidence:\n%s", text)
	}
	k, _ := fault.Lookup(kindID)
	r, err := e.m.Receipt(context.Background(), f.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := k.Recover(context.Background(), e.host, r); err != nil {
			t.Fatalf("recover #%d: %v", i+1, err)
		}
	}
	if exists(file) {
		t.Fatal("rm did not run")
	}
	if _, err := k.VerifyRecovered(context.Background(), e.host, r); err != nil {
		t.Fatal(err)
	}
	if out, err := e.m.Recover(context.Background(), f.ID); err != nil || out[0].State != bulwark.StateRecovered {
		t.Fatalf("recover through the manager after the kind: %v %+v", err, out)
	}
}

// TestRefused: without a list, off the list, bytes that do not match the
// pin, a list others can write: each refused naming the parameter, and
// nothing run.
func TestRefused(t *testing.T) {
	e := newEnv(t)
	file := filepath.Join(e.root, "flag")
	touch := map[string]string{"inject": argv("/usr/bin/touch", file), "recover": argv("/bin/true")}
	check := func(name, param string, params map[string]string) {
		t.Helper()
		_, err := e.inject(params)
		var pe *fault.ParamError
		if !errors.As(err, &pe) || pe.Param != param {
			t.Errorf("%s: %v, want a ParamError naming --%s", name, err, param)
		} else {
			t.Logf("%s: --%s: %s", name, pe.Param, pe.Message)
		}
		if exists(file) {
			t.Fatalf("%s: the inject command ran", name)
		}
	}
	check("no allow-list", "allow-list", touch)

	list := filepath.Join(e.state, "allow-list")
	writeAllowList(t, list, "/bin/true")
	check("inject not allow-listed", "inject", touch)
	check("recover not allow-listed", "recover", map[string]string{"inject": argv("/bin/true"), "recover": argv("/bin/rm", file)})

	wrong := filepath.Join(e.state, "wrong")
	if err := os.WriteFile(wrong, []byte(strings.Repeat("0", 64)+"  /usr/bin/touch\n"+sumOf(t, "/bin/true")+"  /bin/true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	touch["allow-list"] = wrong
	check("sum mismatch", "inject", touch)

	loose := filepath.Join(e.state, "loose")
	writeAllowList(t, loose, "/usr/bin/touch", "/bin/true")
	if err := os.Chmod(loose, 0o666); err != nil {
		t.Fatal(err)
	}
	touch["allow-list"] = loose
	check("list writable by others", "allow-list", touch)

	// The environment names a list that allows touch.
	envList := filepath.Join(e.state, "env-list")
	writeAllowList(t, envList, "/usr/bin/touch", "/bin/true")
	t.Setenv("BULWARK_ALLOW_LIST", envList)
	delete(touch, "allow-list")
	if f, err := e.inject(touch); err != nil || !exists(file) {
		t.Fatalf("inject with BULWARK_ALLOW_LIST: %v", err)
	} else if out, err := e.m.Recover(context.Background(), f.ID); err != nil || out[0].State != bulwark.StateRecovered {
		t.Fatalf("recover: %v %+v", err, out)
	}
}

func TestBadInput(t *testing.T) {
	k, _ := fault.Lookup(kindID)
	good := argv("/bin/true")
	for _, tt := range []struct {
		name   string
		params map[string]string
		param  string
	}{
		{"shell string", map[string]string{"inject": "/bin/true; reboot", "recover": good}, "inject"},
		{"not strings", map[string]string{"inject": `[1,2]`, "recover": good}, "inject"},
		{"empty array", map[string]string{"inject": `[]`, "recover": good}, "inject"},
		{"two arrays", map[string]string{"inject": good + good, "recover": good}, "inject"},
		{"relative", map[string]string{"inject": argv("true"), "recover": good}, "inject"},
		{"unclean", map[string]string{"inject": argv("/bin/../bin/true"), "recover": good}, "inject"},
		{"nul", map[string]string{"inject": argv("/bin/true", "a\x00b"), "recover": good}, "inject"},
		{"recover missing", map[string]string{"inject": good}, "recover"},
		{"recover shell", map[string]string{"inject": good, "recover": "rm -rf /"}, "recover"},
		{"timeout too short", map[string]string{"inject": good, "recover": good, "timeout": "10ms"}, "timeout"},
		{"timeout too long", map[string]string{"inject": good, "recover": good, "timeout": "1h"}, "timeout"},
		{"relative list", map[string]string{"inject": good, "recover": good, "allow-list": "list.txt"}, "allow-list"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fault.Decode(k.Info(), tt.params)
			var pe *fault.ParamError
			if !errors.As(err, &pe) || pe.Param != tt.param {
				t.Fatalf("Decode(%v) = %v, want a ParamError naming --%s", tt.params, err, tt.param)
			}
		})
	}
}

// TestInjectFails: a failing inject command fails the fault, and the
// manager runs the recover command, since the inject may have done part of
// its work.
func TestInjectFails(t *testing.T) {
	e := newEnv(t)
	file := filepath.Join(e.root, "flag")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	writeAllowList(t, filepath.Join(e.state, "allow-list"), "/bin/false", "/bin/rm", "/bin/sleep", "/bin/true")
	f, err := e.inject(map[string]string{"inject": argv("/bin/false"), "recover": argv("/bin/rm", file)})
	if err == nil && f.State != bulwark.StateFailed {
		t.Fatalf("inject /bin/false: %+v", f)
	}
	t.Logf("inject /bin/false: %v", err)
	if exists(file) {
		t.Error("the recover command did not run after the failed inject")
	}

	start := time.Now()
	f, err = e.inject(map[string]string{"inject": argv("/bin/sleep", "30"), "recover": argv("/bin/true"), "timeout": "1s"})
	if err == nil && f.State != bulwark.StateFailed {
		t.Fatalf("inject sleep 30 with a 1s timeout: %+v", f)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the timeout did not stop sleep: %v", took)
	}
	t.Logf("inject sleep with timeout: %v", err)
}

// TestPinnedAtInject: recovery runs from the receipt's pins, not the list
// file: it works with the list gone, and refuses a recover executable whose
// bytes changed after inject.
func TestPinnedAtInject(t *testing.T) {
	e := newEnv(t)
	bin := t.TempDir()
	mine := filepath.Join(bin, "recover-tool")
	copyFile(t, "/bin/true", mine)
	list := filepath.Join(e.state, "allow-list")
	writeAllowList(t, list, "/bin/true", mine)

	f1, err := e.inject(map[string]string{"inject": argv("/bin/true"), "recover": argv(mine)})
	if err != nil {
		t.Fatal(err)
	}
	f2, err := e.inject(map[string]string{"inject": argv("/bin/true"), "recover": argv(mine)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(list); err != nil {
		t.Fatal(err)
	}
	e.m.Close()
	m := e.open(t)
	if out, err := m.Recover(context.Background(), f1.ID); err != nil || out[0].State != bulwark.StateRecovered {
		t.Fatalf("recover with the list gone: %v %+v", err, out)
	}

	copyFile(t, "/bin/false", mine)
	k, _ := fault.Lookup(kindID)
	r, err := m.Receipt(context.Background(), f2.ID)
	if err != nil {
		t.Fatal(err)
	}
	err = k.Recover(context.Background(), e.host, r)
	if err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("recover with changed bytes: %v, want a refusal naming the SHA-256", err)
	}
	copyFile(t, "/bin/true", mine)
	if out, err := m.Recover(context.Background(), f2.ID); err != nil || out[0].State != bulwark.StateRecovered {
		t.Fatalf("recover with the bytes back: %v %+v", err, out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	tmp := to + ".tmp"
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}
