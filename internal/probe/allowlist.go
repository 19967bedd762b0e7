package probe

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// AllowList is the set of executables that command probes may run, each
// pinned to the SHA-256 of its bytes (DESIGN §6.9). Paths are absolute and
// clean. An AllowList is safe for concurrent use.
type AllowList struct {
	mu   sync.RWMutex
	sums map[string][32]byte
}

// NewAllowList returns an empty allow-list.
func NewAllowList() *AllowList { return &AllowList{sums: map[string][32]byte{}} }

// Add allows the executable at path whose SHA-256 is sum (64 hex digits).
func (a *AllowList) Add(path, sum string) error {
	if !filepath.IsAbs(path) || filepath.Clean(path) != path {
		return fmt.Errorf("allow %q: path must be absolute and clean", path)
	}
	raw, err := hex.DecodeString(strings.ToLower(sum))
	if err != nil || len(raw) != sha256.Size {
		return fmt.Errorf("allow %s: %q is not a SHA-256 (64 hex digits)", path, sum)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sums[path] = [32]byte(raw)
	return nil
}

// Sum returns the pinned SHA-256 of path.
func (a *AllowList) Sum(path string) ([32]byte, bool) {
	if a == nil {
		return [32]byte{}, false
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	s, ok := a.sums[path]
	return s, ok
}

// Len returns the number of allowed executables.
func (a *AllowList) Len() int {
	if a == nil {
		return 0
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.sums)
}

// ParseAllowList reads an allow-list in sha256sum's output format, one
// "HEX  /abs/path" (or "HEX */abs/path") a line; blank lines and lines
// starting with # are ignored. So `sha256sum /opt/checks/* > allow.txt`
// writes one.
func ParseAllowList(r io.Reader) (*AllowList, error) {
	a := NewAllowList()
	sc := bufio.NewScanner(r)
	var errs []error
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, path, ok := strings.Cut(line, " ")
		path = strings.TrimPrefix(strings.TrimLeft(path, " "), "*")
		if !ok || path == "" {
			errs = append(errs, fmt.Errorf("line %d: want \"SHA256  /path\"", n))
			continue
		}
		if err := a.Add(path, sum); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("parse allow-list: %w", err)
	}
	return a, nil
}

// LoadAllowList reads the allow-list file at path. On Unix it refuses a file
// that group or others can write, since whoever can edit the list can run
// anything.
func LoadAllowList(path string) (*AllowList, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load allow-list: %w", err)
	}
	defer f.Close()
	if runtime.GOOS != "windows" {
		st, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("load allow-list: %w", err)
		}
		if st.Mode().Perm()&0o022 != 0 {
			return nil, fmt.Errorf("load allow-list %s: writable by group or others (mode %v)", path, st.Mode().Perm())
		}
	}
	a, err := ParseAllowList(f)
	if err != nil {
		return nil, fmt.Errorf("load allow-list %s: %w", path, err)
	}
	return a, nil
}

// ErrNotAllowed is returned when an executable is not on the allow-list or its
// bytes do not match the pinned SHA-256.
var ErrNotAllowed = errors.New("executable not allowed")

// checkFile hashes r and compares it with path's pinned sum. It returns the
// first bytes read, for the "#!" check.
func (a *AllowList) checkFile(path string, r io.Reader) (head []byte, err error) {
	want, ok := a.Sum(path)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not on the allow-list", ErrNotAllowed, path)
	}
	h := sha256.New()
	hb := &headBuffer{max: 256}
	if _, err := io.Copy(h, io.TeeReader(r, hb)); err != nil {
		return nil, fmt.Errorf("hash %s: %w", path, err)
	}
	if got := [32]byte(h.Sum(nil)); got != want {
		return nil, fmt.Errorf("%w: %s has SHA-256 %x, the allow-list pins %x", ErrNotAllowed, path, got, want)
	}
	return hb.b, nil
}

// checkPath hashes the file at path and compares it with its pinned sum.
func (a *AllowList) checkPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	_, err = a.checkFile(path, f)
	return err
}

// interpreter returns the path of a "#!" line's interpreter, or "" when head
// does not start with "#!".
func interpreter(head []byte) string {
	if len(head) < 2 || head[0] != '#' || head[1] != '!' {
		return ""
	}
	line, _, _ := strings.Cut(string(head[2:]), "\n")
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}

// headBuffer keeps the first max bytes written to it.
type headBuffer struct {
	b   []byte
	max int
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if n := h.max - len(h.b); n > 0 {
		h.b = append(h.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}
