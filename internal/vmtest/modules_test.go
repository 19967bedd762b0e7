package vmtest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeModules writes a modules directory with the given files.
func fakeModules(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestResolve(t *testing.T) {
	dir := fakeModules(t, map[string]string{
		"modules.dep": "kernel/a.ko: kernel/b.ko kernel/c.ko\nkernel/b.ko: kernel/c.ko\nkernel/c.ko:\n" +
			"kernel/nft-x.ko: kernel/c.ko\nkernel/crc_generic.ko:\nkernel/crc_fast.ko:\n",
		"modules.builtin": "kernel/net/sched/sch_fq_codel.ko\n",
		"modules.softdep": "# comment\nsoftdep c pre: crc\n",
		"modules.alias":   "alias crc crc_generic\nalias crc crc_fast\nalias pci:v*d* a\n",
	})
	db, err := loadModuleDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	order, builtin, err := db.resolve([]string{"a", "nft_x", "sch_fq_codel", "crc_generic"})
	if err != nil {
		t.Fatal(err)
	}
	want := []loadItem{
		{"kernel/crc_generic.ko", false}, // optional as c's softdep, then named itself
		{"kernel/crc_fast.ko", true},
		{"kernel/c.ko", false}, {"kernel/b.ko", false}, {"kernel/a.ko", false}, {"kernel/nft-x.ko", false},
	}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("order = %v\nwant    %v", order, want)
	}
	if !reflect.DeepEqual(builtin, []string{"sch_fq_codel"}) {
		t.Errorf("builtin = %v", builtin)
	}
}

func TestResolveErrors(t *testing.T) {
	for _, tc := range []struct {
		name, dep string
		mods      []string
		want      string
	}{
		{"unknown", "kernel/a.ko:\n", []string{"a", "nope", "zz"}, "no module nope, zz"},
		{"cycle", "kernel/a.ko: kernel/b.ko\nkernel/b.ko: kernel/a.ko\n", []string{"a"}, "dependency cycle"},
		{"dangling", "kernel/a.ko: kernel/gone.ko\n", []string{"a"}, "a needs gone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := loadModuleDB(fakeModules(t, map[string]string{"modules.dep": tc.dep}))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := db.resolve(tc.mods); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("resolve = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := loadModuleDB(fakeModules(t, map[string]string{"modules.dep": "no colon here\n"})); err == nil ||
		!strings.Contains(err.Error(), "modules.dep:1") {
		t.Errorf("bad modules.dep: %v, want an error naming line 1", err)
	}
}

// TestResolveDebian resolves NetworkModules against the installed kernel.
func TestResolveDebian(t *testing.T) {
	k, err := findKernel()
	if err != nil {
		t.Skip(err)
	}
	db, err := loadModuleDB(k.ModDir)
	if err != nil {
		t.Fatal(err)
	}
	order, _, err := db.resolve(NetworkModules)
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, m := range order {
		pos[moduleName(m.Path)] = i
		if _, err := os.Stat(filepath.Join(k.ModDir, m.Path)); err != nil {
			t.Error(err)
		}
	}
	for _, m := range NetworkModules {
		if _, ok := pos[m]; !ok && !db.builtin[m] {
			t.Errorf("%s missing from the load order", m)
		}
		for _, d := range db.deps[m] {
			if pos[d] >= pos[m] {
				t.Errorf("%s loads before its dependency %s", m, d)
			}
		}
	}
}
