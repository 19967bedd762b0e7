package audit_test

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/audit"
	"github.com/bulwarkhq/bulwark/internal/audit/audittest"
)

func TestRecordGaplessUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	l := f.log(50)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				if _, err := l.Record(context.Background(), entry(w*100+i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	rep := f.verify(t)
	if !rep.OK || rep.Entries != 200 || rep.Checkpoints != 8 { // 4 in the database, 4 in the file
		t.Fatalf("report %+v; want ok, 200 entries, 8 matching checkpoints", rep)
	}
}

func TestRecordFillsAndSeals(t *testing.T) {
	f := newFixture(t)
	l := f.log(100, func(o *audit.Options) { o.Alg = audit.AlgSM3 })
	e, err := l.Record(context.Background(), entry(1))
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 1 || e.Alg != audit.AlgSM3 || !bulwark.ValidID(e.ID) || e.Time.IsZero() || e.Time.Location() != time.UTC || e.PrevHash != "" {
		t.Fatalf("recorded %+v", e)
	}
	if h, _ := audit.ComputeHash(&e); h != e.Hash {
		t.Fatalf("returned hash %s, recomputed %s", e.Hash, h)
	}
}

func TestRecordRefusesInvalidEntries(t *testing.T) {
	f := newFixture(t)
	l := f.log(100)
	edits := map[string]func(*audit.Entry){
		"no actor":          func(e *audit.Entry) { e.Actor.ID = "" },
		"actor kind":        func(e *audit.Entry) { e.Actor.Kind = "root" },
		"action":            func(e *audit.Entry) { e.Action = "Fault Inject" },
		"digest":            func(e *audit.Entry) { e.RequestDigest = "abc" },
		"status":            func(e *audit.Entry) { e.Result.Status = "maybe" },
		"denied, no reason": func(e *audit.Entry) { e.Result.Status = audit.ResultDenied },
	}
	for name, edit := range edits {
		e := entry(1)
		edit(&e)
		if _, err := l.Record(context.Background(), e); bulwark.ErrorCode(err) != bulwark.EINVALID {
			t.Errorf("%s: Record = %v, want EINVALID", name, err)
		}
	}
	if n := len(audittest.All(t, f.store)); n != 0 {
		t.Fatalf("%d invalid entries stored", n)
	}
}

// Halt acts first and audits after: with the database closed, Record
// spools, and the next Record once it is back appends the spool first.
func TestRecordSpoolsWhileTheStoreIsClosed(t *testing.T) {
	f := newFixture(t)
	l := f.log(100)
	record(t, l, 1, 2)
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"halt", "fault.recover", "halt.resume"} {
		e := entry(0)
		e.Action, e.Actor = action, audit.Actor{ID: "server", Kind: audit.ActorSystem}
		got, err := l.Record(context.Background(), e)
		if err != nil || got.Seq != 0 {
			t.Fatalf("Record %s with the store closed = seq %d, %v; want spooled (seq 0, nil)", action, got.Seq, err)
		}
	}
	if l.Spooled() != 3 {
		t.Fatalf("Spooled = %d, want 3", l.Spooled())
	}
	if err := l.Flush(context.Background()); err == nil {
		t.Fatal("Flush with the store closed returned nil")
	}
	if err := f.db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	last, err := l.Record(context.Background(), entry(6))
	if err != nil || last.Seq != 6 {
		t.Fatalf("Record after reopen = seq %d, %v; want 6", last.Seq, err)
	}
	var actions []string
	for _, e := range audittest.All(t, f.store) {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); got != "fault.inject fault.inject halt fault.recover halt.resume fault.inject" {
		t.Fatalf("stored actions %q: spooled entries out of order", got)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "audit.spool")); !errors.Is(err, os.ErrNotExist) || l.Spooled() != 0 {
		t.Fatalf("spool still there after the flush (stat %v, Spooled %d)", err, l.Spooled())
	}
	if rep := f.verify(t); !rep.OK || rep.Entries != 6 {
		t.Fatalf("report %+v", rep)
	}
}

// Another process holding the write lock makes the store unavailable for
// longer than StoreTimeout: the entry is spooled, and Flush stores it.
func TestRecordSpoolsWhileTheStoreIsLocked(t *testing.T) {
	f := newFixture(t)
	l := f.log(100, func(o *audit.Options) { o.StoreTimeout = 200 * time.Millisecond })
	record(t, l, 1, 1)

	unlock := lockDB(t, f.dbPath)
	got, err := l.Record(context.Background(), entry(2))
	if err != nil || got.Seq != 0 || l.Spooled() != 1 {
		t.Fatalf("Record under a foreign write lock = seq %d, %v, spooled %d; want spooled", got.Seq, err, l.Spooled())
	}
	unlock()
	// A fresh Log over the same spool, with the default StoreTimeout, so a
	// loaded machine does not turn the flush into another spooling.
	if err := f.log(100).Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	all := audittest.All(t, f.store)
	if len(all) != 2 || all[1].Resource != "fault/2" {
		t.Fatalf("after Flush: %d entries, want the spooled one at seq 2", len(all))
	}
}

// A crash after the append committed and before the spool was removed
// leaves stored entries in the spool; a new Log appends them once only.
func TestSpoolReplayIsIdempotent(t *testing.T) {
	f := newFixture(t)
	l := f.log(100)
	stored, err := l.Record(context.Background(), entry(1))
	if err != nil {
		t.Fatal(err)
	}
	unstored := entry(2)
	unstored.ID, unstored.Time, unstored.Alg = bulwark.NewID(), time.Now().UTC(), audit.AlgSHA256
	stored.Seq, stored.PrevHash, stored.Hash = 0, "", ""
	writeSpool(t, filepath.Join(f.dir, "audit.spool"), stored, unstored)

	l2 := f.log(100)
	if _, err := l2.Record(context.Background(), entry(3)); err != nil {
		t.Fatal(err)
	}
	var res []string
	for _, e := range audittest.All(t, f.store) {
		res = append(res, e.Resource)
	}
	if got := strings.Join(res, " "); got != "fault/1 fault/2 fault/3" {
		t.Fatalf("stored %q; want each entry once, in order", got)
	}
}

// A spool whose last line was torn by a crash (before its fsync returned,
// so before Record returned) keeps the whole lines.
func TestSpoolTornLastLine(t *testing.T) {
	f := newFixture(t)
	e := entry(1)
	e.ID, e.Time, e.Alg = bulwark.NewID(), time.Now().UTC(), audit.AlgSHA256
	path := filepath.Join(f.dir, "audit.spool")
	writeSpool(t, path, e)
	fh, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString(`{"id":"0193`)
	fh.Close()
	if err := f.log(100).Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(audittest.All(t, f.store)); n != 1 {
		t.Fatalf("%d entries after flushing a torn spool, want 1", n)
	}
}

func TestNoSpoolReturnsTheStoreError(t *testing.T) {
	f := newFixture(t)
	l := f.log(100, func(o *audit.Options) { o.SpoolPath = "" })
	f.db.Close()
	if _, err := l.Record(context.Background(), entry(1)); bulwark.ErrorCode(err) != bulwark.EUNAVAILABLE {
		t.Fatalf("Record with the store closed and no spool = %v, want unavailable", err)
	}
}

func writeSpool(t *testing.T, path string, es ...audit.Entry) {
	t.Helper()
	var b []byte
	for _, e := range es {
		line, _ := json.Marshal(e)
		b = append(append(b, line...), '\n')
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCheckpointEveryN(t *testing.T) {
	f := newFixture(t)
	record(t, f.log(5), 1, 12)
	db, err := f.store.Checkpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	file, err := audit.ReadCheckpointFile(f.cpFile)
	if err != nil {
		t.Fatal(err)
	}
	for name, cps := range map[string][]audit.Checkpoint{"database": db, "file": file} {
		if len(cps) != 2 || cps[0].Seq != 5 || cps[1].Seq != 10 {
			t.Fatalf("%s checkpoints %+v; want seq 5 and 10", name, cps)
		}
		for _, c := range cps {
			if err := c.VerifySignature(f.key.Public().(ed25519.PublicKey)); err != nil {
				t.Errorf("%s checkpoint %d: %v", name, c.Seq, err)
			}
		}
	}
	if fi, _ := os.Stat(f.cpFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("checkpoint file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestCheckpointAfterInterval(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	l := f.log(1000, func(o *audit.Options) {
		o.CheckpointInterval = time.Minute
		o.Now = func() time.Time { return now }
	})
	record(t, l, 1, 1)
	now = now.Add(59 * time.Second)
	record(t, l, 2, 2)
	if cps, _ := f.store.Checkpoints(context.Background()); len(cps) != 0 {
		t.Fatalf("checkpoint written before the interval: %+v", cps)
	}
	now = now.Add(time.Second)
	record(t, l, 3, 3)
	cps, _ := f.store.Checkpoints(context.Background())
	if len(cps) != 1 || cps[0].Seq != 3 || !cps[0].Time.Equal(now) {
		t.Fatalf("checkpoints %+v; want one at seq 3 at %v", cps, now)
	}
}

func TestForcedCheckpoint(t *testing.T) {
	f := newFixture(t)
	l := f.log(100)
	if _, err := l.Checkpoint(context.Background()); err == nil {
		t.Fatal("checkpoint of an empty chain succeeded")
	}
	record(t, l, 1, 4)
	c, err := l.Checkpoint(context.Background())
	if err != nil || c.Seq != 4 {
		t.Fatalf("Checkpoint = %+v, %v", c, err)
	}
	if rep, err := l.Verify(context.Background()); err != nil || !rep.OK || rep.Checkpoints != 1 {
		t.Fatalf("Log.Verify = %+v, %v", rep, err)
	}
}

// A spool with a bad line in the middle cannot be replayed in order: it is
// set aside, whole, and recording goes on.
func TestCorruptSpoolIsSetAside(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.dir, "audit.spool")
	e := entry(1)
	e.ID, e.Time, e.Alg = bulwark.NewID(), time.Now().UTC(), audit.AlgSHA256
	writeSpool(t, path, e)
	fh, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString("not json\n")
	fh.Close()
	got, err := f.log(100).Record(context.Background(), entry(2))
	if err != nil || got.Seq != 1 {
		t.Fatalf("Record with a corrupt spool = seq %d, %v; want seq 1", got.Seq, err)
	}
	aside, _ := filepath.Glob(path + ".bad-*")
	if len(aside) != 1 {
		t.Fatalf("spool set aside as %v, want one file", aside)
	}
	if b, _ := os.ReadFile(aside[0]); !strings.Contains(string(b), "not json") || !strings.Contains(string(b), e.ID) {
		t.Fatalf("set-aside spool lost its contents: %q", b)
	}
}

// Run writes a checkpoint when the interval passes with no further entry,
// and appends the spool as soon as the store is back.
func TestRunCheckpointsAndFlushes(t *testing.T) {
	f := newFixture(t)
	l := f.log(1000, func(o *audit.Options) {
		o.CheckpointInterval = 20 * time.Millisecond
		o.StoreTimeout = 500 * time.Millisecond
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	}()

	record(t, l, 1, 3)
	waitFor(t, "a checkpoint at seq 3", func() bool {
		cps, _ := f.store.Checkpoints(context.Background())
		return len(cps) > 0 && cps[len(cps)-1].Seq == 3
	})

	unlock := lockDB(t, f.dbPath)
	if e, err := l.Record(context.Background(), entry(4)); err != nil || e.Seq != 0 {
		t.Fatalf("Record with the store locked = seq %d, %v; want spooled", e.Seq, err)
	}
	unlock()
	waitFor(t, "the spool flushed", func() bool { return l.Spooled() == 0 })
	waitFor(t, "a checkpoint at seq 4", func() bool {
		cps, _ := f.store.Checkpoints(context.Background())
		return len(cps) > 0 && cps[len(cps)-1].Seq == 4
	})
}

// waitFor polls cond for up to 20 s; the bound is a hang guard, not a
// timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// lockDB takes the database's write lock from another connection, as
// another process would, until the returned func is called.
func lockDB(t *testing.T, path string) (unlock func()) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := raw.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			t.Error(err)
		}
		conn.Close()
		raw.Close()
	}
}

// Close covers the log to its last entry with a checkpoint, once.
func TestCloseCheckpointsTheTail(t *testing.T) {
	f := newFixture(t)
	l := f.log(100)
	record(t, l, 1, 7)
	for range 2 {
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	cps, _ := f.store.Checkpoints(context.Background())
	if len(cps) != 1 || cps[0].Seq != 7 {
		t.Fatalf("checkpoints after Close twice: %+v; want one at seq 7", cps)
	}
	if rep := f.verify(t); !rep.OK || len(rep.Warnings) != 0 {
		t.Fatalf("report %+v; want ok without an uncovered tail", rep)
	}
	f.tamper(t, `DELETE FROM audit_entries WHERE seq = 7`)
	if rep := f.verify(t); rep.OK || rep.FirstBadSeq != 7 {
		t.Fatalf("newest row deleted after Close: %+v", rep)
	}
}
