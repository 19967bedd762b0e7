//go:build linux

package file_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

func TestAppendAndCutBack(t *testing.T) {
	cases := []struct {
		name   string
		params map[string]string
		tail   []byte
	}{
		{"data", map[string]string{"data": "9999,DUPLICATE,100.00\n"}, []byte("9999,DUPLICATE,100.00\n")},
		{"zero", map[string]string{"size": "3000", "pattern": "zero"}, make([]byte, 3000)},
		{"text", map[string]string{"size": "40"}, []byte("bulwark file.append filler line\nbulwark ")},
		{"random", map[string]string{"size": "2MiB", "pattern": "random", "seed": "42"}, nil},
	}
	for _, tc := range cases {
		for _, end := range []string{"recover twice", "sweep", "new manager"} {
			t.Run(tc.name+"/"+end, func(t *testing.T) {
				e := newEnv(t)
				orig := original(500)
				p := e.writeFile(t, "ledger.csv", orig)
				tc.params["path"] = p
				d := time.Minute
				if end == "sweep" {
					d = 300 * time.Millisecond
				}
				f := e.injectKind(t, "file.append", tc.params, d)
				got := readFile(t, p)
				if !bytes.Equal(got[:500], orig) || len(got) <= 500 || tc.tail != nil && !bytes.Equal(got[500:], tc.tail) {
					t.Fatalf("after append: %d bytes, tail %q", len(got), got[500:min(len(got), 540)])
				}
				if ev, ok := evidence(f, "file-appended"); !ok || bytes.Contains([]byte(ev.Detail), []byte("DUPLICATE")) {
					t.Fatalf("evidence %+v", f.Evidence)
				}
				switch end {
				case "recover twice":
					recoverTwice(t, e, f.ID)
				case "sweep":
					expireBySweep(t, e, f)
				case "new manager":
					recoverInNewManager(t, e, f)
				}
				assertBytes(t, p, orig)
				assertFileMeta(t, p, 0o640, past)
				assertStateClean(t, e.state)
			})
		}
	}
}

func TestAppendRandomIsReproducible(t *testing.T) {
	e := newEnv(t)
	var tails [][]byte
	for i := range 2 {
		p := e.writeFile(t, "f"+string(rune('0'+i)), original(10))
		f := e.injectKind(t, "file.append", map[string]string{"path": p, "size": "1000", "pattern": "random", "seed": "7"}, time.Minute)
		tails = append(tails, readFile(t, p)[10:])
		mustRecover(t, e.m, f.ID)
	}
	if !bytes.Equal(tails[0], tails[1]) || bytes.Equal(tails[0], make([]byte, 1000)) {
		t.Fatal("random pattern not reproducible from the seed")
	}
}

func TestAppendConflicts(t *testing.T) {
	for _, tc := range []struct{ name, change, resolve string }{
		{"more appended", "append", "truncate"},
		{"original bytes changed", "edit", "delete claim"},
		{"tail changed", "tail", "delete claim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			orig := original(100)
			p := e.writeFile(t, "journal.log", orig)
			f := e.injectKind(t, "file.append", map[string]string{"path": p, "data": "extra line\n"}, time.Minute)
			claim := filepath.Join(e.state, "data", f.ID, "claim")
			if fi, err := os.Stat(claim); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("claim: %v", err)
			}
			cur := readFile(t, p)
			switch tc.change {
			case "append":
				cur = append(cur, "an application wrote this\n"...)
			case "edit":
				cur[3] = 'X'
			case "tail":
				cur[len(cur)-2] = 'X'
			}
			must(t, os.WriteFile(p, cur, 0o640))
			k, _ := fault.Lookup("file.append")
			r, err := e.m.Receipt(context.Background(), f.ID)
			must(t, err)
			if _, err := k.(fault.Statuser).Status(context.Background(), e.host, r); err == nil {
				t.Fatal("status: no drift")
			}
			assertStuck(t, e, f.ID, claim)
			assertBytes(t, p, cur)
			want := cur
			if tc.resolve == "truncate" {
				must(t, os.Truncate(p, 100))
				want = orig
			} else {
				must(t, os.Remove(claim))
			}
			mustRecover(t, e.m, f.ID)
			assertBytes(t, p, want)
			assertStateClean(t, e.state)
		})
	}
}

// TestAppendInterrupted: a crash mid-append leaves part of the tail and the
// marker; recovery cuts the part off.
func TestAppendInterrupted(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	k, _ := fault.Lookup("file.append")
	orig := original(64)
	p := e.writeFile(t, "x", orig)
	pr, err := fault.Decode(k.Info(), map[string]string{"path": p, "size": "100"})
	must(t, err)
	r, err := k.Prepare(ctx, e.host, fault.Request{ID: "a1", Params: pr, Duration: time.Minute})
	must(t, err)
	must(t, k.Apply(ctx, e.host, r))
	must(t, os.Truncate(p, 64+37))
	must(t, os.WriteFile(filepath.Join(e.state, "data", "a1", "writing"), nil, 0o600))
	must(t, k.Recover(ctx, e.host, r))
	assertBytes(t, p, orig)
	if _, err := k.VerifyRecovered(ctx, e.host, r); err != nil {
		t.Fatal(err)
	}
}

func TestAppendBadInput(t *testing.T) {
	e := newEnv(t)
	p := e.writeFile(t, "x", original(8))
	secret := filepath.Join(t.TempDir(), "secret")
	must(t, os.WriteFile(secret, nil, 0o600))
	must(t, os.Link(secret, filepath.Join(e.root, "hard")))
	for _, tc := range []badCase{
		{"nothing to append", map[string]string{"path": p}, "data", "give the text"},
		{"both", map[string]string{"path": p, "data": "x", "size": "3"}, "size", "does not go with --data"},
		{"too big", map[string]string{"path": p, "size": "2GiB"}, "size", "more than"},
		{"seed without random", map[string]string{"path": p, "size": "3", "seed": "4"}, "seed", "only goes with"},
		{"bad pattern", map[string]string{"path": p, "size": "3", "pattern": "lorem"}, "pattern", "not one of"},
		{"hard link", map[string]string{"path": filepath.Join(e.root, "hard"), "data": "x"}, "path", "hard links"},
		{"outside", map[string]string{"path": secret, "data": "x"}, "path", "outside the file roots"},
	} {
		t.Run(tc.name, func(t *testing.T) { e.assertParamError(t, "file.append", tc.params, tc.param, tc.msg) })
	}
	e.assertNoJournal(t)
}
