package file_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// injectKind injects kind with params for d and checks it is active.
func (e *env) injectKind(t *testing.T, kind string, params map[string]string, d time.Duration) *bulwark.Fault {
	t.Helper()
	f, err := e.m.Inject(context.Background(), bulwark.FaultSpec{Kind: kind, Params: params, Duration: bulwark.Duration(d)})
	if err != nil {
		t.Fatalf("inject %s %v: %v", kind, params, err)
	}
	if f.State != bulwark.StateActive {
		t.Fatalf("state %s, want active", f.State)
	}
	return f
}

// assertParamError injects kind with params and wants a *fault.ParamError
// naming param with msg in its message, and nothing journaled.
func (e *env) assertParamError(t *testing.T, kind string, params map[string]string, param, msg string) {
	t.Helper()
	_, err := e.m.Inject(context.Background(), bulwark.FaultSpec{Kind: kind, Params: params, Duration: bulwark.Duration(time.Minute)})
	var pe *fault.ParamError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *fault.ParamError", err)
	}
	if pe.Param != param || !strings.Contains(pe.Message, msg) {
		t.Fatalf("err = %v, want --%s: …%s…", err, param, msg)
	}
}

// assertNoJournal checks refused injects left nothing in the journal.
func (e *env) assertNoJournal(t *testing.T) {
	t.Helper()
	fs, err := e.m.Faults(context.Background(), bulwark.FaultFilter{})
	if err != nil || len(fs) != 0 {
		t.Fatalf("journal holds %d faults (%v) after refused injects, want none", len(fs), err)
	}
}

// recoverTwice recovers id twice, each time to recovered.
func recoverTwice(t *testing.T, e *env, id string) *bulwark.Fault {
	t.Helper()
	mustRecover(t, e.m, id)
	return mustRecover(t, e.m, id)
}

// expireBySweep waits for f to expire and sweeps it.
func expireBySweep(t *testing.T, e *env, f *bulwark.Fault) {
	t.Helper()
	time.Sleep(time.Until(*f.ExpiresAt) + 20*time.Millisecond)
	swept, err := e.m.Sweep(context.Background())
	if err != nil || len(swept) != 1 || swept[0].State != bulwark.StateRecovered || swept[0].EndReason != "expired" {
		t.Fatalf("sweep after expiry: %v %+v", err, swept)
	}
}

// recoverInNewManager closes the manager as if the process died and
// recovers f from its receipt alone in a new one.
func recoverInNewManager(t *testing.T, e *env, f *bulwark.Fault) {
	t.Helper()
	e.m.Close()
	e.m = e.open(t)
	mustRecover(t, e.m, f.ID)
}

// assertStuck wants recovery of id to fail with a conflict naming want,
// and the fault stuck.
func assertStuck(t *testing.T, e *env, id, want string) {
	t.Helper()
	_, err := e.m.Recover(context.Background(), id)
	if err == nil || !strings.Contains(err.Error(), "conflict") || !strings.Contains(err.Error(), want) {
		t.Fatalf("recover: %v, want a conflict naming %s", err, want)
	}
	if st := faultState(t, e, id); st.State != bulwark.StateStuck {
		t.Fatalf("fault %s (%q), want stuck", st.State, st.Error)
	}
}

// assertStateClean checks no fault left anything in the state directory.
func assertStateClean(t *testing.T, state string) {
	t.Helper()
	if ents, _ := os.ReadDir(filepath.Join(state, "data")); len(ents) != 0 {
		t.Fatalf("left in the state directory: %v", ents)
	}
}

// assertFileMeta checks the file's mode and modification time.
func assertFileMeta(t *testing.T, p string, mode os.FileMode, mtime time.Time) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != mode || !fi.ModTime().Equal(mtime) {
		t.Fatalf("%s: mode %s mtime %s, want %s %s", p, fi.Mode(), fi.ModTime(), mode, mtime)
	}
}
