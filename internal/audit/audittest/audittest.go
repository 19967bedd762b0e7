// Package audittest is the contract suite of audit.Store: every
// implementation runs Run against a real, empty store.
package audittest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/audit"
)

// Run runs the contract suite. open returns a new, empty store whose
// resources are released by t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) audit.Store) {
	t.Run("EmptyHead", func(t *testing.T) { testEmptyHead(t, open(t)) })
	t.Run("AppendSealsInOrder", func(t *testing.T) { testAppendSealsInOrder(t, open(t)) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open(t)) })
	t.Run("ReplayByIDIsSkipped", func(t *testing.T) { testReplay(t, open(t)) })
	t.Run("AllOrNothing", func(t *testing.T) { testAllOrNothing(t, open(t)) })
	t.Run("RefusesWrongSeq", func(t *testing.T) { testWrongSeq(t, open(t)) })
	t.Run("GaplessUnderConcurrency", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("ScanFrom", func(t *testing.T) { testScanFrom(t, open(t)) })
	t.Run("Checkpoints", func(t *testing.T) { testCheckpoints(t, open(t)) })
}

// Entry returns a valid, unsealed entry whose resource names n.
func Entry(n int) audit.Entry {
	return audit.Entry{
		ID:            bulwark.NewID(),
		Time:          time.Date(2026, 11, 26, 9, 30, 0, n, time.UTC),
		Actor:         audit.Actor{ID: "u-alice", Kind: audit.ActorUser},
		Action:        "fault.inject",
		Resource:      fmt.Sprintf("fault/%d", n),
		RequestDigest: audit.DigestBytes([]byte(fmt.Sprint(n))),
		Result:        audit.Result{Status: audit.ResultOK},
		Alg:           audit.AlgSHA256,
	}
}

// Seal is the audit package's chaining rule, for stores under test.
func Seal(prev audit.Head, e *audit.Entry) error {
	e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	h, err := audit.ComputeHash(e)
	e.Hash = h
	return err
}

// All returns every stored entry, in order.
func All(t testing.TB, s audit.Store) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	if err := s.Scan(context.Background(), 1, func(e audit.Entry) error { out = append(out, e); return nil }); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return out
}

func appendN(t *testing.T, s audit.Store, n int) []audit.Entry {
	t.Helper()
	var batch []audit.Entry
	for i := range n {
		batch = append(batch, Entry(i))
	}
	out, err := s.Append(context.Background(), batch, Seal)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return out
}

func testEmptyHead(t *testing.T, s audit.Store) {
	h, err := s.Head(context.Background())
	if err != nil || h != (audit.Head{}) {
		t.Fatalf("Head of an empty store = %+v, %v; want zero, nil", h, err)
	}
	if got := All(t, s); len(got) != 0 {
		t.Fatalf("Scan of an empty store returned %d entries", len(got))
	}
}

func testAppendSealsInOrder(t *testing.T, s audit.Store) {
	first := appendN(t, s, 3)
	second := appendN(t, s, 2)
	all := append(first, second...)
	prev := ""
	for i, e := range all {
		if e.Seq != int64(i+1) || e.PrevHash != prev || e.Hash == "" {
			t.Fatalf("entry %d: seq %d prev %q hash %q; want seq %d prev %q", i, e.Seq, e.PrevHash, e.Hash, i+1, prev)
		}
		prev = e.Hash
	}
	h, err := s.Head(context.Background())
	if err != nil || h.Seq != 5 || h.Hash != prev {
		t.Fatalf("Head = %+v, %v; want seq 5 hash %s", h, err, prev)
	}
}

func testRoundTrip(t *testing.T, s audit.Store) {
	e := Entry(123456789)
	e.Actor = audit.Actor{ID: "张三 <zhang@example.cn>", Kind: audit.ActorToken}
	e.Resource = "system/订单网关 \"quoted\" \\ & <tag>"
	e.Result = audit.Result{Status: audit.ResultDenied, Reason: "日历：连续竞价时段禁止 (blackout)"}
	e.Alg = audit.AlgSM3
	stored, err := s.Append(context.Background(), []audit.Entry{e}, Seal)
	if err != nil {
		t.Fatal(err)
	}
	got := All(t, s)
	if len(got) != 1 {
		t.Fatalf("Scan returned %d entries, want 1", len(got))
	}
	if !got[0].Time.Equal(e.Time) || got[0].Time.Nanosecond() != e.Time.Nanosecond() {
		t.Errorf("time %v came back as %v", e.Time, got[0].Time)
	}
	got[0].Time, stored[0].Time = time.Time{}, time.Time{}
	if got[0] != stored[0] {
		t.Errorf("stored %+v\nread   %+v", stored[0], got[0])
	}
}

func testReplay(t *testing.T, s audit.Store) {
	a, b := Entry(1), Entry(2)
	if _, err := s.Append(context.Background(), []audit.Entry{a}, Seal); err != nil {
		t.Fatal(err)
	}
	out, err := s.Append(context.Background(), []audit.Entry{a, b}, Seal)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].ID != b.ID || out[0].Seq != 2 {
		t.Fatalf("replaying a stored entry returned %+v; want only the new one, at seq 2", out)
	}
	if n := len(All(t, s)); n != 2 {
		t.Fatalf("%d entries stored, want 2", n)
	}
}

func testAllOrNothing(t *testing.T, s audit.Store) {
	boom := errors.New("boom")
	calls := 0
	_, err := s.Append(context.Background(), []audit.Entry{Entry(1), Entry(2)}, func(prev audit.Head, e *audit.Entry) error {
		if calls++; calls == 2 {
			return boom
		}
		return Seal(prev, e)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Append with a failing seal returned %v, want boom", err)
	}
	if n := len(All(t, s)); n != 0 {
		t.Fatalf("a failed Append stored %d entries, want 0", n)
	}
}

func testWrongSeq(t *testing.T, s audit.Store) {
	skip := func(prev audit.Head, e *audit.Entry) error {
		return Seal(audit.Head{Seq: prev.Seq + 1, Hash: prev.Hash}, e)
	}
	if _, err := s.Append(context.Background(), []audit.Entry{Entry(1)}, skip); err == nil {
		t.Fatal("Append stored an entry sealed at seq 2 on an empty chain")
	}
	if n := len(All(t, s)); n != 0 {
		t.Fatalf("%d entries stored, want 0", n)
	}
}

func testConcurrent(t *testing.T, s audit.Store) {
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.Append(context.Background(), []audit.Entry{Entry(w*each + i)}, Seal); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Append: %v", err)
	}
	all := All(t, s)
	if len(all) != workers*each {
		t.Fatalf("%d entries, want %d", len(all), workers*each)
	}
	for i, e := range all {
		if e.Seq != int64(i+1) || (i > 0 && e.PrevHash != all[i-1].Hash) {
			t.Fatalf("entry %d: seq %d, prev %s; chain broken", i, e.Seq, e.PrevHash)
		}
	}
}

func testScanFrom(t *testing.T, s audit.Store) {
	appendN(t, s, 5)
	var seqs []int64
	err := s.Scan(context.Background(), 3, func(e audit.Entry) error { seqs = append(seqs, e.Seq); return nil })
	if err != nil || fmt.Sprint(seqs) != "[3 4 5]" {
		t.Fatalf("Scan from 3 = %v, %v; want [3 4 5]", seqs, err)
	}
	stop := errors.New("stop")
	n := 0
	err = s.Scan(context.Background(), 1, func(audit.Entry) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Scan whose fn fails = %v after %d calls; want stop after 1", err, n)
	}
}

func testCheckpoints(t *testing.T, s audit.Store) {
	es := appendN(t, s, 2)
	want := []audit.Checkpoint{
		{Seq: 1, Hash: es[0].Hash, Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), KeyID: "k1", Signature: "c2ln"},
		{Seq: 2, Hash: es[1].Hash, Time: time.Date(2026, 1, 2, 3, 4, 6, 7, time.UTC), KeyID: "k1", Signature: "c2lnMg=="},
	}
	for _, c := range []audit.Checkpoint{want[1], want[0]} {
		if err := s.AddCheckpoint(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Checkpoints(context.Background())
	if err != nil || len(got) != 2 {
		t.Fatalf("Checkpoints = %v, %v; want 2", got, err)
	}
	for i := range want {
		if got[i].Seq != want[i].Seq || got[i].Hash != want[i].Hash || !got[i].Time.Equal(want[i].Time) ||
			got[i].KeyID != want[i].KeyID || got[i].Signature != want[i].Signature {
			t.Errorf("checkpoint %d = %+v, want %+v (ordered by seq)", i, got[i], want[i])
		}
	}
}
