package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/audit"
	"github.com/bulwarkhq/bulwark/internal/audit/audittest"
)

// chain records 50 entries with a checkpoint every 10, in the database
// and in the checkpoint file.
func chain(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	record(t, f.log(10), 1, 50)
	if rep := f.verify(t); !rep.OK || rep.Entries != 50 || rep.Checkpoints != 10 {
		t.Fatalf("clean chain: %+v", rep)
	}
	return f
}

func TestVerifyDetects(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(t *testing.T, f *fixture)
		bad     int64
		problem string
	}{
		{
			name: "edited row",
			tamper: func(t *testing.T, f *fixture) {
				f.tamper(t, `UPDATE audit_entries SET resource = 'fault/x' WHERE seq = 37`)
			},
			bad: 37, problem: "seq 37 does not match its contents",
		},
		{
			name: "edited result",
			tamper: func(t *testing.T, f *fixture) {
				f.tamper(t, `UPDATE audit_entries SET result_status = 'denied' WHERE seq = 1`)
			},
			bad: 1, problem: "seq 1 does not match its contents",
		},
		{
			name:   "deleted row",
			tamper: func(t *testing.T, f *fixture) { f.tamper(t, `DELETE FROM audit_entries WHERE seq = 37`) },
			bad:    37, problem: "seq 37 is missing",
		},
		{
			name:   "rewritten row with its own hash recomputed",
			tamper: func(t *testing.T, f *fixture) { rewrite(t, f, 37, 37) },
			bad:    37, problem: "seq 37 was rewritten",
		},
		{
			name: "chain recomputed after an edit, database checkpoints deleted",
			tamper: func(t *testing.T, f *fixture) {
				rewrite(t, f, 37, 50)
				f.tamper(t, `DELETE FROM audit_checkpoints WHERE seq > 30`)
			},
			bad: 31, problem: "an entry in 31..40 was changed and the chain recomputed",
		},
		{
			name: "truncated tail",
			tamper: func(t *testing.T, f *fixture) {
				f.tamper(t, `DELETE FROM audit_entries WHERE seq > 45`, `DELETE FROM audit_checkpoints WHERE seq > 45`)
			},
			bad: 46, problem: "beyond the last entry 45",
		},
		{
			name: "truncated tail and new entries appended",
			tamper: func(t *testing.T, f *fixture) {
				f.tamper(t, `DELETE FROM audit_entries WHERE seq > 45`, `DELETE FROM audit_checkpoints WHERE seq > 40`)
				record(t, audit.New(f.store, audit.Options{}), 46, 50)
			},
			bad: 41, problem: "an entry in 41..50 was changed",
		},
		{
			name: "forged checkpoint signature",
			tamper: func(t *testing.T, f *fixture) {
				_, other, _ := ed25519.GenerateKey(rand.Reader)
				c := audit.Checkpoint{Seq: 20, Hash: hashAt(t, f, 20), Time: bulwarkNow()}
				if err := c.Sign(other); err != nil {
					t.Fatal(err)
				}
				if err := audit.NewFileSink(f.cpFile).Export(context.Background(), c); err != nil {
					t.Fatal(err)
				}
			},
			bad: 20, problem: "signature does not verify",
		},
		{
			name:   "algorithm id changed",
			tamper: func(t *testing.T, f *fixture) { f.tamper(t, `UPDATE audit_entries SET alg = 'sm3' WHERE seq = 12`) },
			bad:    12, problem: "seq 12 does not match its contents",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := chain(t)
			tt.tamper(t, f)
			rep := f.verify(t)
			if rep.OK || rep.FirstBadSeq != tt.bad || !strings.Contains(rep.Problem, tt.problem) {
				t.Fatalf("report %+v;\nwant first bad seq %d with %q", rep, tt.bad, tt.problem)
			}
		})
	}
}

// rewrite edits the resource of seq `from` and recomputes the hashes of
// from..to, as an attacker who knows the format would.
func rewrite(t *testing.T, f *fixture, from, to int64) {
	t.Helper()
	all := audittest.All(t, f.store)
	var stmts []string
	prev := all[from-2].Hash
	for _, e := range all[from-1 : to] {
		if e.Seq == from {
			e.Resource = "fault/forged"
		}
		e.PrevHash = prev
		h, err := audit.ComputeHash(&e)
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, fmt.Sprintf(`UPDATE audit_entries SET resource = '%s', prev_hash = '%s', hash = '%s' WHERE seq = %d`,
			e.Resource, e.PrevHash, h, e.Seq))
		prev = h
	}
	f.tamper(t, stmts...)
}

func hashAt(t *testing.T, f *fixture, seq int64) string {
	return audittest.All(t, f.store)[seq-1].Hash
}

func bulwarkNow() time.Time { return time.Now().UTC() }

// Without the exported file, a recomputed chain whose database checkpoints
// were deleted too is not detectable: the report says which entries no
// checkpoint covers.
func TestVerifyWithoutExportedCheckpoints(t *testing.T) {
	f := chain(t)
	rewrite(t, f, 37, 50)
	f.tamper(t, `DELETE FROM audit_checkpoints WHERE seq > 30`)
	rep, err := audit.Verify(context.Background(), f.store, audit.VerifyOptions{PublicKey: f.key.Public().(ed25519.PublicKey)})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "entries 31..50 follow the last matching checkpoint") {
		t.Fatalf("report %+v; want ok with a warning about 31..50", rep)
	}
}

func TestVerifyWithoutPublicKeyWarns(t *testing.T) {
	f := chain(t)
	rep, err := audit.Verify(context.Background(), f.store, audit.VerifyOptions{CheckpointFile: f.cpFile})
	if err != nil || !rep.OK || !strings.Contains(strings.Join(rep.Warnings, ";"), "signatures were not checked") {
		t.Fatalf("report %+v, %v", rep, err)
	}
}

func TestVerifyBadCheckpointFile(t *testing.T) {
	f := chain(t)
	_, err := audit.Verify(context.Background(), f.store, audit.VerifyOptions{CheckpointFile: f.dir + "/missing.jsonl"})
	if bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Fatalf("missing checkpoint file: %v, want EINVALID", err)
	}
}

// The algorithm may change between entries; each entry is verified with
// its own.
func TestVerifyMixedAlgorithms(t *testing.T) {
	f := newFixture(t)
	record(t, f.log(4), 1, 6)
	record(t, f.log(4, func(o *audit.Options) { o.Alg = audit.AlgSM3 }), 7, 12)
	algs := ""
	for _, e := range audittest.All(t, f.store) {
		algs += e.Alg[:2]
	}
	if algs != "shshshshshshsmsmsmsmsmsm" {
		t.Fatalf("algorithms by seq: %s", algs)
	}
	if rep := f.verify(t); !rep.OK || rep.Entries != 12 {
		t.Fatalf("report %+v", rep)
	}
}

func TestVerifyCleanChainOf10000(t *testing.T) {
	f := newFixture(t)
	l := f.log(1000)
	appendBatch(t, f, 10000)
	if _, err := l.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep := f.verify(t)
	if !rep.OK || rep.Entries != 10000 || rep.FirstBadSeq != 0 || rep.Checkpoints != 2 || len(rep.Warnings) != 0 {
		t.Fatalf("report %+v", rep)
	}
	f.tamper(t, `UPDATE audit_entries SET actor_id = 'u-mallory' WHERE seq = 9999`)
	if rep := f.verify(t); rep.OK || rep.FirstBadSeq != 9999 {
		t.Fatalf("after editing seq 9999: %+v", rep)
	}
}

// appendBatch appends n entries in batches of 1000, sealed as the Log does.
func appendBatch(t testing.TB, f *fixture, n int) {
	for done := 0; done < n; {
		var batch []audit.Entry
		for ; len(batch) < 1000 && done < n; done++ {
			batch = append(batch, audittest.Entry(done))
		}
		if _, err := f.store.Append(context.Background(), batch, audittest.Seal); err != nil {
			t.Fatal(err)
		}
	}
}

// After a key rotation the old checkpoints verify with the old key, found
// by their key id; without it they are reported.
func TestVerifyAfterKeyRotation(t *testing.T) {
	f := newFixture(t)
	oldKey := f.key
	record(t, f.log(5), 1, 10)
	_, f.key, _ = ed25519.GenerateKey(rand.Reader)
	record(t, f.log(5), 11, 20)
	rep, err := audit.Verify(context.Background(), f.store, audit.VerifyOptions{
		PublicKey: f.key.Public().(ed25519.PublicKey), OldKeys: []ed25519.PublicKey{oldKey.Public().(ed25519.PublicKey)},
		CheckpointFile: f.cpFile,
	})
	if err != nil || !rep.OK || rep.Checkpoints != 8 {
		t.Fatalf("with both keys: %+v, %v", rep, err)
	}
	if rep := f.verify(t); rep.OK || rep.FirstBadSeq != 5 || !strings.Contains(rep.Problem, "unknown key") {
		t.Fatalf("with the new key only: %+v; want seq 5 signed by an unknown key", rep)
	}
}
