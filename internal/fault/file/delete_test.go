//go:build linux

package file_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func TestDeleteMovesAsideAndBack(t *testing.T) {
	for _, end := range []string{"recover twice", "sweep", "new manager"} {
		t.Run(end, func(t *testing.T) {
			e := newEnv(t)
			orig := original(1000)
			p := e.writeFile(t, "settle.csv", orig)
			ino := inode(t, p)
			d := time.Minute
			if end == "sweep" {
				d = 300 * time.Millisecond
			}
			f := e.injectKind(t, "file.delete", map[string]string{"path": p}, d)
			assertGone(t, p)
			aside := e.backup(f.ID)
			if inode(t, aside) != ino {
				t.Fatal("the file was not renamed aside (another inode)")
			}
			if di, err := os.Stat(filepath.Dir(aside)); err != nil || di.Mode().Perm() != 0o700 {
				t.Fatalf("state directory: %v", err)
			}
			if ev, ok := evidence(f, "file-aside"); !ok || strings.Contains(ev.Detail, string(orig[:20])) {
				t.Fatalf("evidence %+v", f.Evidence)
			}
			switch end {
			case "recover twice":
				r := recoverTwice(t, e, f.ID)
				if _, ok := evidence(r, "file-restored"); !ok {
					t.Fatalf("no file-restored evidence: %+v", r.Evidence)
				}
			case "sweep":
				expireBySweep(t, e, f)
			case "new manager":
				recoverInNewManager(t, e, f)
			}
			assertBytes(t, p, orig)
			assertFileMeta(t, p, 0o640, past)
			if inode(t, p) != ino {
				t.Fatal("restored as another inode: copied, not renamed")
			}
			assertStateClean(t, e.state)
		})
	}
}

func TestDeleteConflictNewFileAtPath(t *testing.T) {
	for _, resolve := range []string{"remove new file", "delete kept original"} {
		t.Run(resolve, func(t *testing.T) {
			e := newEnv(t)
			orig := original(64)
			p := e.writeFile(t, "in.csv", orig)
			f := e.injectKind(t, "file.delete", map[string]string{"path": p}, time.Minute)
			k, _ := fault.Lookup("file.delete")
			r, err := e.m.Receipt(context.Background(), f.ID)
			must(t, err)
			theirs := []byte("a new batch file\n")
			must(t, os.WriteFile(p, theirs, 0o644))
			if _, err := k.(fault.Statuser).Status(context.Background(), e.host, r); err == nil {
				t.Fatal("status: no drift with a new file at the path")
			}
			assertStuck(t, e, f.ID, e.backup(f.ID))
			assertBytes(t, p, theirs)
			assertBytes(t, e.backup(f.ID), orig)
			want, check := orig, "file-restored"
			if resolve == "remove new file" {
				must(t, os.Remove(p))
			} else {
				must(t, os.Remove(e.backup(f.ID)))
				want, check = theirs, "file-released"
			}
			got := mustRecover(t, e.m, f.ID)
			if _, ok := evidence(got, check); !ok {
				t.Fatalf("no %s evidence: %+v", check, got.Evidence)
			}
			assertBytes(t, p, want)
			assertStateClean(t, e.state)
		})
	}
}

// TestDeleteOtherFilesystem puts the state directory on another filesystem
// (/dev/shm): the file is moved to a hidden name next to it instead.
func TestDeleteOtherFilesystem(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "bulwark-test-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(shm) })
	e := &env{root: t.TempDir(), state: shm}
	if dev(t, e.root) == dev(t, shm) {
		t.Skip("/dev/shm is on the same filesystem as the temp dir")
	}
	e.host = fault.DefaultHost(e.state)
	e.host.FileRoots = []string{e.root}
	e.m = e.open(t)
	orig := original(100)
	p := e.writeFile(t, "x.dat", orig)
	ino := inode(t, p)
	f := e.injectKind(t, "file.delete", map[string]string{"path": p}, time.Minute)
	hidden := filepath.Join(e.root, ".bulwark-aside-"+f.ID)
	if inode(t, hidden) != ino {
		t.Fatal("not moved to the hidden name")
	}
	recoverTwice(t, e, f.ID)
	assertBytes(t, p, orig)
	assertGone(t, hidden)
	assertStateClean(t, e.state)
}

func TestDeleteBadInput(t *testing.T) {
	e := newEnv(t)
	must(t, os.Mkdir(filepath.Join(e.root, "dir"), 0o700))
	must(t, os.Symlink("/etc/passwd", filepath.Join(e.root, "link")))
	for _, tc := range []badCase{
		{"no path", map[string]string{}, "path", "required"},
		{"outside", map[string]string{"path": "/etc/passwd"}, "path", "outside the file roots"},
		{"symlink out", map[string]string{"path": filepath.Join(e.root, "link")}, "path", "outside the file roots"},
		{"directory", map[string]string{"path": filepath.Join(e.root, "dir")}, "path", "not a regular file"},
		{"missing", map[string]string{"path": filepath.Join(e.root, "nope")}, "path", "no such file"},
		{"state dir", map[string]string{"path": e.state}, "path", "outside the file roots"},
	} {
		t.Run(tc.name, func(t *testing.T) { e.assertParamError(t, "file.delete", tc.params, tc.param, tc.msg) })
	}
	e.assertNoJournal(t)
	// A second fault on the same file is refused while the first is live.
	p := e.writeFile(t, "one", original(8))
	f := e.injectKind(t, "file.delete", map[string]string{"path": p}, time.Minute)
	must(t, os.WriteFile(p, original(4), 0o600))
	if _, err := e.m.Inject(context.Background(), bulwark.FaultSpec{Kind: "file.corrupt", Params: map[string]string{"path": p}, Duration: bulwark.Duration(time.Minute)}); bulwark.ErrorCode(err) != bulwark.ECONFLICT {
		t.Fatalf("second fault on the same file: %v, want a conflict", err)
	}
	must(t, os.Remove(p))
	mustRecover(t, e.m, f.ID)
}
