package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ChildPrefix starts the name of every cgroup bulwark creates.
const ChildPrefix = "bulwark-"

// CreateChild creates the cgroup parent/bulwark-<name> for controller and
// returns it; an existing one is returned as is, so a retried Apply is
// harmless. On v2 it refuses when the parent does not delegate controller
// to its children (cgroup.subtree_control), leaving nothing behind.
func (hy *Hierarchy) CreateChild(controller string, parent Path, name string) (Path, error) {
	if !validName(name) {
		return "", fmt.Errorf("create cgroup: invalid name %q", name)
	}
	m, v, err := hy.mount(controller)
	if err != nil {
		return "", err
	}
	pm, err := hy.owns(parent)
	if err != nil {
		return "", err
	}
	if pm != m {
		return "", fmt.Errorf("create cgroup: %s is not in the %s hierarchy at %s", parent, controller, m.Point)
	}
	if v == V2 {
		_, n2 := names(controller)
		sub, err := hy.ReadFile(parent, "cgroup.subtree_control")
		if err != nil {
			return "", err
		}
		if !slices.Contains(strings.Fields(sub), n2) {
			return "", fmt.Errorf("create cgroup: %s does not delegate %s to its children (cgroup.subtree_control: %q)", parent, n2, strings.TrimSpace(sub))
		}
	}
	child := Path(filepath.Join(string(parent), ChildPrefix+name))
	if err := os.Mkdir(string(child), 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("create cgroup %s: %w", child, err)
	}
	return child, nil
}

// EnableController writes "+controller" to p's cgroup.subtree_control on v2
// and reports whether it changed anything, so a caller can record and undo
// it with DisableController. On v1 it does nothing.
func (hy *Hierarchy) EnableController(p Path, controller string) (bool, error) {
	m, err := hy.owns(p)
	if err != nil || m.Version != V2 {
		return false, err
	}
	_, n2 := names(controller)
	sub, err := hy.ReadFile(p, "cgroup.subtree_control")
	if err != nil {
		return false, err
	}
	if slices.Contains(strings.Fields(sub), n2) {
		return false, nil
	}
	return true, hy.WriteFile(p, "cgroup.subtree_control", "+"+n2)
}

// DisableController undoes EnableController.
func (hy *Hierarchy) DisableController(p Path, controller string) error {
	_, n2 := names(controller)
	return hy.WriteFile(p, "cgroup.subtree_control", "-"+n2)
}

// Move moves process pid (all its threads) into p, writing cgroup.procs, or
// tasks where a v1 hierarchy has no cgroup.procs.
func (hy *Hierarchy) Move(pid int, p Path) error {
	if _, err := hy.owns(p); err != nil {
		return err
	}
	name := "cgroup.procs"
	if !fileExists(p.File(name)) {
		name = "tasks"
	}
	if err := hy.WriteFile(p, name, strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("move pid %d: %w", pid, err)
	}
	return nil
}

// Procs returns the processes in p (cgroup.procs).
func (hy *Hierarchy) Procs(p Path) ([]int, error) {
	s, err := hy.ReadFile(p, "cgroup.procs")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(s) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids, nil
}

// Remove removes the cgroup p that bulwark created (its name starts with
// ChildPrefix), and its children, moving any member processes to p's parent
// first. A cgroup already gone is not an error.
func (hy *Hierarchy) Remove(p Path) error {
	if _, err := hy.owns(p); err != nil {
		return err
	}
	if hy.IsRoot(p) || !strings.HasPrefix(filepath.Base(string(p)), ChildPrefix) {
		return fmt.Errorf("remove cgroup: %s was not created by bulwark", p)
	}
	return hy.remove(p, Path(filepath.Dir(string(p))))
}

func (hy *Hierarchy) remove(p, dest Path) error {
	ents, err := os.ReadDir(string(p))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove cgroup: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := hy.remove(Path(p.File(e.Name())), dest); err != nil {
				return err
			}
		}
	}
	var last error
	for try := 0; try < 50; try++ {
		pids, err := hy.Procs(p)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		var moveErr error
		for _, pid := range pids {
			// A process that exits meanwhile fails with ESRCH: fine. Any
			// other failure (on v2, EBUSY: dest delegates a controller to
			// its children, so it may hold no process) will not go away.
			if err := hy.Move(pid, dest); err != nil && !errors.Is(err, syscall.ESRCH) {
				moveErr = err
			}
		}
		err = os.Remove(string(p))
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		last = err
		if moveErr != nil {
			return fmt.Errorf("remove cgroup %s: %w (its members cannot leave for %s: %w)", p, err, dest, moveErr)
		}
		if !errors.Is(err, syscall.EBUSY) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("remove cgroup %s: %w", p, last)
}

// ReadFile returns the content of p's interface file name.
func (hy *Hierarchy) ReadFile(p Path, name string) (string, error) {
	if _, err := hy.owns(p); err != nil {
		return "", err
	}
	b, err := os.ReadFile(p.File(name))
	if err != nil {
		return "", fmt.Errorf("read cgroup file: %w", err)
	}
	return string(b), nil
}

// WriteFile writes value to p's interface file name in one write (cgroup
// files take one value per write).
func (hy *Hierarchy) WriteFile(p Path, name, value string) error {
	if _, err := hy.owns(p); err != nil {
		return err
	}
	f, err := os.OpenFile(p.File(name), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("write cgroup file: %w", err)
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write cgroup file %s: %w", p.File(name), err)
	}
	return nil
}
