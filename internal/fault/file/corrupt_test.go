package file_test

import (
	"bytes"
	"context"
	"errors"
	"math/bits"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// badCase is bad input and the parameter the error must name.
type badCase struct {
	name   string
	params map[string]string
	param  string
	msg    string
}

func TestCorruptBadInput(t *testing.T) {
	e := newEnv(t)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, original(32), 0o600); err != nil {
		t.Fatal(err)
	}
	p := e.writeFile(t, "data", original(32))
	zeros := e.writeFile(t, "zeros", make([]byte, 16))
	empty := e.writeFile(t, "empty", nil)
	must(t, os.Mkdir(filepath.Join(e.root, "dir"), 0o700))

	in := func(name string) string { return filepath.Join(e.root, name) }
	sep := string(filepath.Separator)
	cases := []badCase{
		{"no path", map[string]string{}, "path", "required"},
		{"relative", map[string]string{"path": "data"}, "path", "not absolute"},
		{"system file", map[string]string{"path": systemFile}, "path", "outside the file roots"},
		{"dot-dot to system file", map[string]string{"path": e.root + strings.Repeat(sep+"..", 8) + systemFile[len(filepath.VolumeName(systemFile)):]}, "path", "outside the file roots"},
		{"dot-dot to sibling", map[string]string{"path": e.root + sep + ".." + sep + filepath.Base(outside) + sep + "secret"}, "path", "outside the file roots"},
		{"the root itself", map[string]string{"path": e.root}, "path", "outside the file roots"},
		{"directory", map[string]string{"path": in("dir")}, "path", "not a regular file"},
		{"missing", map[string]string{"path": in("nope")}, "path", "no such file"},
		{"empty", map[string]string{"path": empty}, "path", "empty"},
		{"over max-size", map[string]string{"path": p, "max-size": "16"}, "path", "more than --max-size"},
		{"bad mode", map[string]string{"path": p, "mode": "shred"}, "mode", "not one of"},
		{"negative offset", map[string]string{"path": p, "offset": "-1"}, "offset", "negative"},
		{"offset past end", map[string]string{"path": p, "offset": "32"}, "offset", "beyond the end"},
		{"length past end", map[string]string{"path": p, "offset": "30", "length": "3"}, "length", "past the end"},
		{"zero length", map[string]string{"path": p, "length": "0"}, "length", "at least 1"},
		{"truncate not shorter", map[string]string{"path": p, "mode": "truncate", "length": "32"}, "length", "not shorter"},
		{"truncate with offset", map[string]string{"path": p, "mode": "truncate", "offset": "4"}, "offset", "does not go with"},
		{"seed with zero", map[string]string{"path": p, "mode": "zero", "seed": "3"}, "seed", "only goes with"},
		{"zero on zeros", map[string]string{"path": zeros, "mode": "zero", "length": "16"}, "offset", "already zero"},
		{"unknown param", map[string]string{"path": p, "backup": "no"}, "backup", "no parameter"},
	}
	cases = append(cases, specialFiles(t, e.root, outside, secret)...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := e.m.Inject(ctx, spec(tc.params, time.Minute))
			var pe *fault.ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *fault.ParamError", err)
			}
			if pe.Param != tc.param || !strings.Contains(pe.Message, tc.msg) {
				t.Fatalf("err = %v, want --%s: …%s…", err, tc.param, tc.msg)
			}
		})
	}
	fs, err := e.m.Faults(context.Background(), bulwark.FaultFilter{})
	if err != nil || len(fs) != 0 {
		t.Fatalf("journal holds %d faults (%v) after refused injects, want none", len(fs), err)
	}
	assertBytes(t, p, original(32))
	assertBytes(t, secret, original(32))
	assertGone(t, filepath.Join(e.state, "data"))
}

func TestCorruptRefusesStateDir(t *testing.T) {
	e := newEnv(t)
	e.host.FileRoots = []string{filepath.Dir(e.state)} // the state dir lies inside the root
	p := filepath.Join(e.state, "journal.jsonl")
	_, err := e.m.Inject(context.Background(), spec(map[string]string{"path": p}, time.Minute))
	var pe *fault.ParamError
	if !errors.As(err, &pe) || pe.Param != "path" || !strings.Contains(pe.Message, "state directory") {
		t.Fatalf("err = %v, want --path: …state directory…", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestCorruptModes(t *testing.T) {
	orig := original(64)
	inverted := func(lo, hi int) []byte {
		b := bytes.Clone(orig)
		for i := lo; i < hi; i++ {
			b[i] = ^b[i]
		}
		return b
	}
	zeroed := func(lo, hi int) []byte {
		b := bytes.Clone(orig)
		clear(b[lo:hi])
		return b
	}
	cases := []struct {
		name   string
		params map[string]string
		want   []byte // nil: checked by check
		check  func(t *testing.T, got []byte)
	}{
		{"flip default", map[string]string{}, inverted(0, 1), nil},
		{"flip range", map[string]string{"offset": "10", "length": "20"}, inverted(10, 30), nil},
		{"flip seeded", map[string]string{"offset": "8", "length": "32", "seed": "42"}, nil, func(t *testing.T, got []byte) {
			for i := range orig {
				want := 0
				if i >= 8 && i < 40 {
					want = 1
				}
				if n := bits.OnesCount8(got[i] ^ orig[i]); n != want {
					t.Fatalf("byte %d differs in %d bits, want %d", i, n, want)
				}
			}
		}},
		{"zero", map[string]string{"mode": "zero", "offset": "60", "length": "4"}, zeroed(60, 64), nil},
		{"zero whole", map[string]string{"mode": "zero", "length": "64"}, make([]byte, 64), nil},
		{"truncate default", map[string]string{"mode": "truncate"}, orig[:32], nil},
		{"truncate to 5", map[string]string{"mode": "truncate", "length": "5"}, orig[:5], nil},
		{"truncate to empty", map[string]string{"mode": "truncate", "length": "0"}, []byte{}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			p := e.writeFile(t, "data.bin", orig)
			before, _ := os.Stat(p)
			tc.params["path"] = p
			f := e.inject(t, tc.params)

			got := readFile(t, p)
			if tc.check != nil {
				tc.check(t, got)
			} else if !bytes.Equal(got, tc.want) {
				t.Fatalf("faulted bytes %q, want %q", got, tc.want)
			}
			during, _ := os.Stat(p)
			if !os.SameFile(before, during) {
				t.Fatal("the fault replaced the file instead of changing it in place")
			}
			if f.Resource != "file:"+p {
				t.Fatalf("resource %q", f.Resource)
			}
			for _, c := range []string{"file-bytes", "file-backup"} {
				if _, ok := evidence(f, c); !ok {
					t.Fatalf("no %s evidence: %+v", c, f.Evidence)
				}
			}
			for _, ev := range f.Evidence {
				if strings.Contains(ev.Detail, string(orig[:8])) {
					t.Fatalf("evidence holds file contents: %q", ev.Detail)
				}
			}
			bi, err := os.Stat(e.backup(f.ID))
			if err != nil || bi.Mode().Perm() != 0o600 {
				t.Fatalf("backup %v mode %v, want 0600", err, bi.Mode().Perm())
			}
			assertBytes(t, e.backup(f.ID), orig)

			r := mustRecover(t, e.m, f.ID)
			assertBytes(t, p, orig)
			after, _ := os.Stat(p)
			if !os.SameFile(before, after) || !after.ModTime().Equal(past) || after.Mode() != before.Mode() {
				t.Fatalf("after recovery: same file %v, mtime %v (want %v), mode %v (want %v)",
					os.SameFile(before, after), after.ModTime(), past, after.Mode(), before.Mode())
			}
			if _, ok := evidence(r, "file-restored"); !ok {
				t.Fatalf("no file-restored evidence: %+v", r.Evidence)
			}
			assertGone(t, filepath.Dir(e.backup(f.ID)))
			mustRecover(t, e.m, f.ID) // again: not an error
			assertBytes(t, p, orig)
		})
	}
}

func TestCorruptSecondFaultOnSameFileRefused(t *testing.T) {
	e := newEnv(t)
	p := e.writeFile(t, "data", original(16))
	f := e.inject(t, map[string]string{"path": p})
	_, err := e.m.Inject(context.Background(), spec(map[string]string{"path": p, "offset": "4"}, time.Minute))
	if bulwark.ErrorCode(err) != bulwark.ECONFLICT {
		t.Fatalf("second fault on the same file: %v, want a conflict", err)
	}
	mustRecover(t, e.m, f.ID)
	assertBytes(t, p, original(16))
}

func TestCorruptExpiresThroughSweep(t *testing.T) {
	e := newEnv(t)
	p := e.writeFile(t, "data", original(16))
	f, err := e.m.Inject(context.Background(), spec(map[string]string{"path": p, "mode": "zero", "length": "16"}, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	swept, err := e.m.Sweep(context.Background())
	if err != nil || len(swept) != 1 || swept[0].ID != f.ID || swept[0].State != bulwark.StateRecovered || swept[0].EndReason != "expired" {
		t.Fatalf("sweep = %+v, %v; want %s recovered (expired)", swept, err, f.ID)
	}
	assertBytes(t, p, original(16))
	assertGone(t, filepath.Dir(e.backup(f.ID)))
}

func TestCorruptRecoversInNewManager(t *testing.T) {
	e := newEnv(t)
	p := e.writeFile(t, "data", original(100))
	f := e.inject(t, map[string]string{"path": p, "mode": "truncate", "length": "7"})
	must(t, e.m.Close())
	m2 := e.open(t)
	mustRecover(t, m2, f.ID)
	assertBytes(t, p, original(100))
	assertGone(t, filepath.Dir(e.backup(f.ID)))
}

// faultState returns the journal's view of one fault.
func faultState(t *testing.T, e *env, id string) *bulwark.Fault {
	t.Helper()
	fs, err := e.m.Faults(context.Background(), bulwark.FaultFilter{ID: &id})
	if err != nil || len(fs) != 1 {
		t.Fatalf("faults %s: %v, %v", id, fs, err)
	}
	return fs[0]
}

func TestCorruptConflictKeepsThirdPartyWrite(t *testing.T) {
	for _, resolve := range []string{"delete backup", "restore original"} {
		t.Run(resolve, func(t *testing.T) {
			e := newEnv(t)
			p := e.writeFile(t, "app.conf", original(40))
			f := e.inject(t, map[string]string{"path": p, "offset": "3", "length": "5"})
			theirs := []byte("written by configuration management\n")
			must(t, os.WriteFile(p, theirs, 0o640))

			_, err := e.m.Recover(context.Background(), f.ID)
			if err == nil || !strings.Contains(err.Error(), "conflict") || !strings.Contains(err.Error(), e.backup(f.ID)) {
				t.Fatalf("recover after a third-party write: %v, want a conflict naming the backup", err)
			}
			if st := faultState(t, e, f.ID); st.State != bulwark.StateStuck || !strings.Contains(st.Error, e.backup(f.ID)) {
				t.Fatalf("fault %s (%q), want stuck naming the backup", st.State, st.Error)
			}
			assertBytes(t, p, theirs)
			bi, err := os.Stat(e.backup(f.ID))
			if err != nil || bi.Mode().Perm() != 0o600 {
				t.Fatalf("backup after conflict: %v", err)
			}
			assertBytes(t, e.backup(f.ID), original(40))
			// The stuck fault keeps the file from being faulted again.
			if _, err := e.m.Inject(context.Background(), spec(map[string]string{"path": p}, time.Minute)); bulwark.ErrorCode(err) != bulwark.ECONFLICT {
				t.Fatalf("inject on a stuck file: %v, want a conflict", err)
			}

			want, check := theirs, "file-released"
			if resolve == "delete backup" {
				must(t, os.Remove(e.backup(f.ID)))
			} else {
				must(t, os.WriteFile(p, readFile(t, e.backup(f.ID)), 0o640))
				want, check = original(40), "file-restored"
			}
			r := mustRecover(t, e.m, f.ID)
			assertBytes(t, p, want)
			if _, ok := evidence(r, check); !ok {
				t.Fatalf("no %s evidence: %+v", check, r.Evidence)
			}
			assertGone(t, filepath.Dir(e.backup(f.ID)))
		})
	}
}

func TestCorruptNeverWritesIntoAReplacedFile(t *testing.T) {
	e := newEnv(t)
	p := e.writeFile(t, "data", original(16))
	f := e.inject(t, map[string]string{"path": p})
	// Someone replaces the file by rename, with the same (faulted) bytes.
	tmp := filepath.Join(e.root, "data.new")
	faulted := readFile(t, p)
	must(t, os.WriteFile(tmp, faulted, 0o600))
	must(t, os.Rename(tmp, p))
	if _, err := e.m.Recover(context.Background(), f.ID); err == nil || !strings.Contains(err.Error(), "conflict") {
		t.Fatalf("recover into a replaced file: %v, want a conflict", err)
	}
	assertBytes(t, p, faulted)
}
