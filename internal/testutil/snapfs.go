package testutil

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// snapFiles records FileRoots, ExtraFiles, CgroupFiles and the hosts file.
func (s *HostSnapshot) snapFiles() error {
	for _, root := range s.opts.FileRoots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && path == root {
					s.put("file "+path, "absent")
					return nil
				}
				s.put("file "+path, "error: "+err.Error())
				return nil
			}
			s.put("file "+path, describeFile(path))
			return nil
		})
		if err != nil {
			return fmt.Errorf("walk %s: %w", root, err)
		}
	}
	for _, f := range s.opts.ExtraFiles {
		s.put("extra "+f, describeFile(f))
	}
	for _, p := range s.opts.CgroupFiles {
		s.put("cgroup "+p, describeCgroup(p))
	}
	if !s.opts.NoHosts {
		hosts := s.opts.HostsFile
		if hosts == "" {
			hosts = "/etc/hosts"
		}
		s.put("hosts "+hosts, describeFile(hosts))
	}
	return nil
}

// describeFile is "absent", "dir mode=…", "symlink -> target", or
// "mode=… size=… sha256=…" for a regular file (following no symlinks).
func describeFile(path string) string {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "absent"
	case err != nil:
		return "error: " + err.Error()
	case fi.Mode()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(path)
		return "symlink -> " + target
	case fi.IsDir():
		return "dir mode=" + fi.Mode().String()
	case !fi.Mode().IsRegular():
		return "special mode=" + fi.Mode().String()
	}
	sum, err := hashFile(path)
	if err != nil {
		return fmt.Sprintf("mode=%s size=%d error: %v", fi.Mode(), fi.Size(), err)
	}
	return fmt.Sprintf("mode=%s size=%d sha256=%s", fi.Mode(), fi.Size(), sum)
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// describeCgroup is a cgroup file's trimmed content, or a cgroup directory's child
// cgroups ("children: a b"), or "absent".
func describeCgroup(path string) string {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "absent"
	case err != nil:
		return "error: " + err.Error()
	case fi.IsDir():
		ents, err := os.ReadDir(path)
		if err != nil {
			return "error: " + err.Error()
		}
		var kids []string
		for _, e := range ents {
			if e.IsDir() {
				kids = append(kids, e.Name())
			}
		}
		sort.Strings(kids)
		return "children: " + strings.Join(kids, " ")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "unreadable: " + err.Error() // write-only control files read the same every time
	}
	return strings.Join(strings.Fields(string(b)), " ")
}
