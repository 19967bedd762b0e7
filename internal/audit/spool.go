package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// spool is a JSON-lines file of entries that could not reach the store,
// oldest first. Every add is fsynced before Record returns.
type spool struct {
	path string
}

// add appends e and fsyncs the file (and, on creation, its directory).
func (s *spool) add(e Entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("marshal spooled entry: %w", err)
	}
	_, statErr := os.Stat(s.path)
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open audit spool: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && errors.Is(statErr, os.ErrNotExist) {
		err = syncDir(filepath.Dir(s.path))
	}
	if err != nil {
		return fmt.Errorf("write audit spool %s: %w", s.path, err)
	}
	return nil
}

// read returns the spooled entries in order. A last line without its
// newline is a write torn by a crash before its fsync returned (so before
// Record returned): it is ignored. Any other bad line is an error.
func (s *spool) read() ([]Entry, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read audit spool: %w", err)
	}
	var out []Entry
	r := bufio.NewReader(bytes.NewReader(b))
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return out, nil // a torn last line, or none
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("audit spool %s:%d: %w", s.path, n, err)
		}
		out = append(out, e)
	}
}

// clear empties the spool once its entries are in the store.
func (s *spool) clear() error {
	if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("clear audit spool: %w", err)
	}
	return syncDir(filepath.Dir(s.path))
}

// setAside renames an unreadable spool to <path>.bad-<time> and returns
// the new name.
func (s *spool) setAside(now time.Time) (string, error) {
	aside := s.path + ".bad-" + now.UTC().Format("20060102T150405.000000000Z")
	if err := os.Rename(s.path, aside); err != nil {
		return "", fmt.Errorf("set audit spool aside: %w", err)
	}
	return aside, syncDir(filepath.Dir(s.path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
