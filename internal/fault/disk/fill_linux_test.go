package disk_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/disk"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/testutil"
	"golang.org/x/sys/unix"
)

func TestFillBadInput(t *testing.T) {
	root := t.TempDir()
	h := fault.DefaultHost(t.TempDir())
	h.FileRoots = []string{root}
	dir := mkdir(t, root, "x")
	os.WriteFile(filepath.Join(root, "plain"), nil, 0o600)
	tests := []struct {
		params      map[string]string
		param, want string
	}{
		{map[string]string{"path": dir}, "size", "is required"},
		{map[string]string{"path": dir, "size": "1MiB", "percent": "5"}, "percent", "not both"},
		{map[string]string{"path": dir, "percent": "101"}, "percent", "out of range"},
		{map[string]string{"path": dir, "size": "lots"}, "size", ""},
		{map[string]string{"path": dir, "percent": "5", "of": "used"}, "of", "not one of"},
		{map[string]string{"path": "/etc", "size": "1MiB"}, "path", "outside the file roots"},
		{map[string]string{"path": filepath.Join(root, "plain"), "size": "1MiB"}, "path", "not a directory"},
		{map[string]string{"path": filepath.Join(root, "none"), "size": "1MiB"}, "path", "no such file"},
		{map[string]string{"path": dir, "size": "100000000GiB"}, "size", "reserve"},
		{map[string]string{"path": dir, "percent": "99"}, "percent", "reserve"},
	}
	for _, tt := range tests {
		_, err := prepare(t, h, disk.FillID, tt.params)
		wantParamError(t, err, tt.param, tt.want)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("prepare left %v", ents)
	}
}

// TestFillStateDirMargin mounts small tmpfs filesystems in the sandbox: a
// fill on the state directory's own filesystem is refused whatever its size
// (64 MiB cannot keep a 1 GiB margin), and elsewhere the reserve holds.
func TestFillStateDirMargin(t *testing.T) {
	testutil.Require(t, "root", "netns")
	if !testutil.Sandbox(t) {
		return
	}
	box := testutil.SandboxPaths(t)
	small := mkdir(t, box.FileRoot, "small")
	if err := unix.Mount("tmpfs", small, "tmpfs", 0, "size=64m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(small, unix.MNT_DETACH) })
	h := fault.DefaultHost(mkdir(t, small, "state"))
	h.FileRoots = []string{box.FileRoot}
	target := mkdir(t, small, "x")
	_, err := prepare(t, h, disk.FillID, map[string]string{"path": target, "size": "1MiB"})
	wantParamError(t, err, "size", "state directory")
	_, err = open(t, h).Inject(t.Context(), bulwark.FaultSpec{Kind: disk.FillID, Params: map[string]string{"path": target, "size": "1MiB"}})
	if err == nil {
		t.Fatal("inject on the state directory's filesystem accepted")
	}
	if ents, _ := os.ReadDir(target); len(ents) != 0 {
		t.Errorf("refused inject left %v", ents)
	}

	// The state directory elsewhere: only the reserve applies.
	h2 := fault.DefaultHost(box.StateDir)
	h2.FileRoots = []string{box.FileRoot}
	_, err = prepare(t, h2, disk.FillID, map[string]string{"path": target, "size": "62MiB"})
	wantParamError(t, err, "size", "reserve of 5 %")
	m := open(t, h2)
	f := inject(t, m, disk.FillID, map[string]string{"path": target, "percent": "50", "of": "free"})
	var s unix.Statfs_t
	unix.Statfs(target, &s)
	if free := int64(s.Bavail) * s.Bsize; free > 33<<20 {
		t.Errorf("%d bytes free after filling half of 64 MiB", free)
	}
	recoverFault(t, m, f.ID)
	if ents, _ := os.ReadDir(target); len(ents) != 0 {
		t.Errorf("recover left %v", ents)
	}
}

func TestFillContract(t *testing.T) {
	faulttest.Run(t, disk.FillID, faulttest.Case{
		Name: "size",
		Setup: func(t *testing.T, h *fault.Host) map[string]string {
			return map[string]string{"path": mkdir(t, h.FileRoots[0], "x"), "size": "16MiB"}
		},
		Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
			fi, err := os.Stat(filepath.Join(h.FileRoots[0], "x", ".bulwark-fill-"+f.ID))
			if err != nil || fi.Sys().(*syscall.Stat_t).Blocks*512 < 16<<20 {
				t.Errorf("fill file: %v %+v", err, fi)
			}
		},
	})
}

// TestFillRealDisk fills 256 MiB of a block-device filesystem with
// fallocate, as `disk.fill --path /tmp/x --size 1GiB` would, and checks the
// file is gone after recover.
func TestFillRealDisk(t *testing.T) {
	testutil.Require(t, "root")
	dir := diskDir(t)
	h := fault.DefaultHost(t.TempDir())
	h.FileRoots = []string{dir}
	target := mkdir(t, dir, "x")
	m := open(t, h)
	f := inject(t, m, disk.FillID, map[string]string{"path": target, "size": "256MiB"})
	file := filepath.Join(target, ".bulwark-fill-"+f.ID)
	var st unix.Stat_t
	if err := unix.Stat(file, &st); err != nil || st.Blocks*512 < 256<<20 || st.Size != 256<<20 {
		t.Fatalf("fill file: %v %+v", err, st)
	}
	recoverFault(t, m, f.ID)
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("fill file after recover: %v", err)
	}
}

// TestFillRecoverLeavesAReplacedFile checks Recover deletes only the
// recorded inode.
func TestFillRecoverLeavesAReplacedFile(t *testing.T) {
	root := t.TempDir()
	h := fault.DefaultHost(t.TempDir())
	h.FileRoots = []string{root}
	dir := mkdir(t, root, "x")
	m := open(t, h)
	f := inject(t, m, disk.FillID, map[string]string{"path": dir, "size": "1MiB"})
	file := filepath.Join(dir, ".bulwark-fill-"+f.ID)
	os.Remove(file)
	os.WriteFile(file, []byte("someone else's"), 0o600)
	if out, err := m.Recover(t.Context(), f.ID); err == nil && out[0].State == bulwark.StateRecovered {
		t.Fatalf("recover deleted a replaced file: %+v", out)
	}
	if b, _ := os.ReadFile(file); string(b) != "someone else's" {
		t.Fatalf("replaced file changed: %q", b)
	}
	os.Remove(file)
	if out, err := m.Recover(t.Context(), f.ID); err != nil || out[0].State != bulwark.StateRecovered {
		t.Fatalf("recover after the file went: %v %+v", err, out)
	}
}
