//go:build linux

package file_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

func TestHoldUntilThenBack(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	orig := original(300)
	p := e.writeFile(t, "SETTLE_20260102.csv", orig)
	ino := inode(t, p)
	f := e.injectKind(t, "file.hold", map[string]string{"path": p, "until": "400ms"}, time.Minute)
	if _, ok := evidence(f, "file-held"); !ok {
		t.Fatalf("no file-held evidence: %+v", f.Evidence)
	}
	assertGone(t, p)
	e.m.Tend(ctx) // before --until: still held
	assertGone(t, p)
	k, _ := fault.Lookup("file.hold")
	r, err := e.m.Receipt(ctx, f.ID)
	must(t, err)
	time.Sleep(time.Until(f.CreatedAt.Add(400*time.Millisecond)) + 50*time.Millisecond)
	e.m.Tend(ctx) // the guard's tending puts it back
	assertBytes(t, p, orig)
	if inode(t, p) != ino {
		t.Fatal("put back as another inode")
	}
	if _, err := k.(fault.Statuser).Status(ctx, e.host, r); err != nil {
		t.Fatalf("status after --until: %v", err)
	}
	recoverTwice(t, e, f.ID)
	assertBytes(t, p, orig)
	assertFileMeta(t, p, 0o640, past)
	assertStateClean(t, e.state)
}

func TestHoldUntilTheFaultEnds(t *testing.T) {
	for _, end := range []string{"sweep", "new manager"} {
		t.Run(end, func(t *testing.T) {
			e := newEnv(t)
			orig := original(50)
			p := e.writeFile(t, "in.dat", orig)
			d := time.Minute
			if end == "sweep" {
				d = 300 * time.Millisecond
			}
			f := e.injectKind(t, "file.hold", map[string]string{"path": p}, d)
			assertGone(t, p)
			e.m.Tend(context.Background())
			assertGone(t, p)
			if end == "sweep" {
				expireBySweep(t, e, f)
			} else {
				recoverInNewManager(t, e, f)
			}
			assertBytes(t, p, orig)
			assertStateClean(t, e.state)
		})
	}
}

func TestHoldConflict(t *testing.T) {
	e := newEnv(t)
	orig := original(50)
	p := e.writeFile(t, "in.dat", orig)
	f := e.injectKind(t, "file.hold", map[string]string{"path": p}, time.Minute)
	must(t, os.WriteFile(p, []byte("resent by the counterparty\n"), 0o600))
	assertStuck(t, e, f.ID, e.backup(f.ID))
	must(t, os.Remove(p))
	mustRecover(t, e.m, f.ID)
	assertBytes(t, p, orig)
	assertStateClean(t, e.state)
}

func TestHoldBadInput(t *testing.T) {
	e := newEnv(t)
	p := e.writeFile(t, "x", original(8))
	for _, tc := range []badCase{
		{"no path", map[string]string{}, "path", "required"},
		{"not yet arrived", map[string]string{"path": e.root + "/later.csv"}, "path", "no such file"},
		{"bad until", map[string]string{"path": p, "until": "tomorrow"}, "until", "neither an RFC 3339 time"},
		{"zero until", map[string]string{"path": p, "until": "0s"}, "until", "not a positive duration"},
		{"past until", map[string]string{"path": p, "until": "2020-01-01T00:00:00Z"}, "until", "not in the future"},
		{"until after the fault", map[string]string{"path": p, "until": "2h"}, "until", "after the fault ends"},
	} {
		t.Run(tc.name, func(t *testing.T) { e.assertParamError(t, "file.hold", tc.params, tc.param, tc.msg) })
	}
	e.assertNoJournal(t)
}
