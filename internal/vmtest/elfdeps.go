package vmtest

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// sharedObject is a file the dynamic loader needs: Dest is where it goes in the
// VM (the path the loader asks for), Src the host file holding its content.
type sharedObject struct {
	Dest string
	Src  string
}

// defaultLibDirs are searched after DT_RUNPATH and /etc/ld.so.conf, like the
// loader's built-in system directories.
var defaultLibDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
}

// elfDeps lists what the dynamically linked exe needs at run time: its program
// interpreter (PT_INTERP) and the DT_NEEDED libraries, transitively, each
// resolved like the loader would (DT_RUNPATH/DT_RPATH with $ORIGIN, the
// directories of /etc/ld.so.conf, the system directories) and checked to be of
// exe's ELF class and machine. A static exe needs nothing. libDirs are the VM
// directories holding the libraries, for LD_LIBRARY_PATH.
func elfDeps(exe string) (objs []sharedObject, libDirs []string, err error) {
	f, err := elf.Open(exe)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	interp, err := interpreter(f)
	if err != nil || interp == "" {
		return nil, nil, err
	}
	src, err := filepath.EvalSymlinks(interp)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: program interpreter: %w", exe, err)
	}
	objs = append(objs, sharedObject{Dest: interp, Src: src})
	searchConf := ldSoConfDirs("/etc/ld.so.conf", 0)
	seen := map[string]bool{filepath.Base(interp): true}
	dirSeen := map[string]bool{}
	queue := []string{exe}
	for len(queue) > 0 {
		obj := queue[0]
		queue = queue[1:]
		needed, runpath, err := dynInfo(obj)
		if err != nil {
			return nil, nil, err
		}
		dirs := append(append(runpath, searchConf...), defaultLibDirs...)
		for _, lib := range needed {
			if seen[lib] {
				continue
			}
			seen[lib] = true
			path, err := findLib(lib, dirs, f.Class, f.Machine)
			if err != nil {
				return nil, nil, fmt.Errorf("%s needs %s: %w", obj, lib, err)
			}
			real, err := filepath.EvalSymlinks(path)
			if err != nil {
				return nil, nil, err
			}
			objs = append(objs, sharedObject{Dest: path, Src: real})
			if d := filepath.Dir(path); !dirSeen[d] {
				dirSeen[d] = true
				libDirs = append(libDirs, d)
			}
			queue = append(queue, real)
		}
	}
	return objs, libDirs, nil
}

// interpreter returns f's PT_INTERP path, or "" for a static executable.
func interpreter(f *elf.File) (string, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return "", fmt.Errorf("read PT_INTERP: %w", err)
		}
		return strings.TrimRight(string(b), "\x00"), nil
	}
	return "", nil
}

// dynInfo returns the DT_NEEDED names and the DT_RUNPATH (or DT_RPATH)
// directories of the ELF file at path, with $ORIGIN expanded.
func dynInfo(path string) (needed, runpath []string, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	needed, err = f.ImportedLibraries()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: DT_NEEDED: %w", path, err)
	}
	rp, _ := f.DynString(elf.DT_RUNPATH)
	if len(rp) == 0 {
		rp, _ = f.DynString(elf.DT_RPATH)
	}
	origin := filepath.Dir(path)
	for _, s := range rp {
		for _, d := range strings.Split(s, ":") {
			d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", origin), "$ORIGIN", origin)
			if d != "" {
				runpath = append(runpath, d)
			}
		}
	}
	return needed, runpath, nil
}

// findLib returns the first dirs/name that is an ELF file of the given class and machine.
func findLib(name string, dirs []string, class elf.Class, machine elf.Machine) (string, error) {
	if strings.Contains(name, "/") {
		dirs, name = []string{filepath.Dir(name)}, filepath.Base(name)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		ok := f.Class == class && f.Machine == machine
		f.Close()
		if ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("not found in %s", strings.Join(dirs, ":"))
}

// ldSoConfDirs returns the directories listed in an ld.so.conf file,
// following "include" globs (to a small depth).
func ldSoConfDirs(conf string, depth int) []string {
	b, err := os.ReadFile(conf)
	if err != nil || depth > 4 {
		return nil
	}
	var dirs []string
	for _, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "include "):
			pat := strings.TrimSpace(strings.TrimPrefix(line, "include "))
			if !filepath.IsAbs(pat) {
				pat = filepath.Join(filepath.Dir(conf), pat)
			}
			matches, _ := filepath.Glob(pat)
			for _, m := range matches {
				dirs = append(dirs, ldSoConfDirs(m, depth+1)...)
			}
		case filepath.IsAbs(line):
			dirs = append(dirs, line)
		}
	}
	return dirs
}
