// Package journal is the host's fault journal: an append-only file of JSON
// lines, each a complete snapshot of one fault's record, fsynced (file and
// directory) before the call returns. It is kept apart from every other store
// so that recovery never depends on a database.
//
// The last line for an id wins. A torn last line, left by a crash in the
// middle of a write, is ignored; a bad line anywhere else is an error, since
// it means the file was damaged and guessing could leave a fault unrecovered.
package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// FormatVersion is the version of the line format this binary writes.
const FormatVersion = 1

// Record is everything the journal keeps about one fault.
type Record struct {
	Format  int            `json:"v"`
	Seq     uint64         `json:"seq"`
	Fault   bulwark.Fault  `json:"fault"`
	Receipt *fault.Receipt `json:"receipt,omitempty"`
	// DeadlineBoot is the fault's expiry on CLOCK_BOOTTIME (nanoseconds),
	// valid only while BootID matches the running kernel; 0 until active.
	DeadlineBoot int64  `json:"deadlineBoot,omitempty"`
	BootID       string `json:"bootId,omitempty"`
	// RetryBoot is when a stuck fault's recovery is next tried.
	RetryBoot int64 `json:"retryBoot,omitempty"`
}

// Journal is an open journal file. It is not safe for concurrent use; the
// host manager serialises access and holds the state directory's lock.
type Journal struct {
	path    string
	f       *os.File
	seq     uint64
	lines   int
	records map[string]*Record
}

// Open opens or creates the journal at path and loads it.
func Open(path string) (*Journal, error) {
	recs, seq, lines, err := load(path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, err
	}
	return &Journal{path: path, f: f, seq: seq, lines: lines, records: recs}, nil
}

// Load reads the journal at path without opening it for writing: the guard
// uses it to learn deadlines without taking the lock. A missing file is an
// empty journal.
func Load(path string) (map[string]*Record, uint64, error) {
	recs, seq, _, err := load(path)
	return recs, seq, err
}

// load reads the file once and returns its records, the highest seq and the
// number of lines.
func load(path string) (map[string]*Record, uint64, int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]*Record{}, 0, 0, nil
	}
	if err != nil {
		return nil, 0, 0, fmt.Errorf("read journal: %w", err)
	}
	lines := bytes.Count(b, []byte("\n"))
	if recs, seq, ok := parseLatest(b); ok {
		return recs, seq, lines, nil
	}
	recs, seq, err := parseEvery(path, b)
	return recs, seq, lines, err
}

// parseLatest is the fast path of load. Each fault has several lines (its
// intent, applied, active, recovering, recovered snapshots) and only the last
// counts, so it decodes in full only the last line of each fault: every line
// is checked to be well-formed JSON, and its format version, seq and fault id
// are read from the prefix Put writes (`{"v":1,"seq":12,"fault":{"id":"…"`).
// Decoding every line cost 12 ms for a journal of 335 lines on a 2-core VM,
// on every command. ok is false, and parseEvery must decide, whenever the file
// holds anything but well-formed lines of this shape and format with a
// decoded record that agrees with its prefix: a damaged or torn line, a newer
// format, a line written some other way.
func parseLatest(b []byte) (map[string]*Record, uint64, bool) {
	latest := map[string][]byte{}
	var seq uint64
	for rest := b; len(rest) > 0; {
		line, tail, _ := bytes.Cut(rest, []byte("\n"))
		rest = tail
		line = bytes.TrimSuffix(line, []byte("\r"))
		if !json.Valid(line) {
			return nil, 0, false
		}
		v, s, id, ok := prefix(line)
		if !ok || v > FormatVersion {
			return nil, 0, false
		}
		seq = max(seq, s)
		latest[id] = line
	}
	recs := make(map[string]*Record, len(latest))
	for id, line := range latest {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil || r.Fault.ID != id || r.Format > FormatVersion {
			return nil, 0, false
		}
		recs[id] = &r
	}
	return recs, seq, true
}

// prefix reads the format version, seq and fault id from the start of a line
// as Put writes it; ok is false for any other shape (an escaped id, another
// field order).
func prefix(line []byte) (v int, seq uint64, id string, ok bool) {
	rest, ok := bytes.CutPrefix(line, []byte(`{"v":`))
	if !ok {
		return 0, 0, "", false
	}
	ver, rest, ok := number(rest)
	if !ok {
		return 0, 0, "", false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"seq":`)); !ok {
		return 0, 0, "", false
	}
	seq, rest, ok = number(rest)
	if !ok {
		return 0, 0, "", false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"fault":{"id":"`)); !ok {
		return 0, 0, "", false
	}
	end := bytes.IndexByte(rest, '"')
	if end <= 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return 0, 0, "", false
	}
	return int(ver), seq, string(rest[:end]), true
}

// number reads the unsigned decimal integer at the start of b.
func number(b []byte) (uint64, []byte, bool) {
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	if n == 0 || n > 18 || n > 1 && b[0] == '0' {
		return 0, b, false
	}
	v, err := strconv.ParseUint(string(b[:n]), 10, 64)
	return v, b[n:], err == nil
}

// parseEvery decodes every line in order, the last line for an id winning: the
// slow path of load, which reports damage by line.
func parseEvery(path string, b []byte) (map[string]*Record, uint64, error) {
	recs := map[string]*Record{}
	var seq uint64
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			if isTornTail(b, sc.Bytes()) {
				break
			}
			return nil, 0, fmt.Errorf("read journal %s line %d: %w", path, line, err)
		}
		if r.Format > FormatVersion {
			return nil, 0, fmt.Errorf("read journal %s line %d: format v%d: %w", path, line, r.Format, bulwark.ErrNewerReceipt)
		}
		seq = max(seq, r.Seq)
		recs[r.Fault.ID] = &r
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("read journal: %w", err)
	}
	return recs, seq, nil
}

// isTornTail reports whether line is the last line of b and b does not end in
// a newline: the trace of a write cut short.
func isTornTail(b, line []byte) bool {
	return len(b) > 0 && b[len(b)-1] != '\n' && bytes.HasSuffix(b, line)
}

// Put appends r as the newest state of its fault and fsyncs it. The record
// is copied; later changes to r need another Put.
func (j *Journal) Put(r *Record) error {
	j.seq++
	c := *r
	c.Format, c.Seq = FormatVersion, j.seq
	b, err := json.Marshal(&c)
	if err != nil {
		return fmt.Errorf("encode journal record: %w", err)
	}
	if err := j.repairTail(); err != nil {
		return err
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	j.records[c.Fault.ID] = &c
	j.lines++
	r.Seq = c.Seq
	return nil
}

// repairTail ends a torn last line with a newline, so the next record starts
// on a line of its own and the torn one stays a parse error no one trusts.
func (j *Journal) repairTail() error {
	st, err := j.f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	rf, err := os.Open(j.path)
	if err != nil {
		return fmt.Errorf("check journal tail: %w", err)
	}
	defer rf.Close()
	last := make([]byte, 1)
	if _, err := rf.ReadAt(last, st.Size()-1); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("check journal tail: %w", err)
	}
	if last[0] == '\n' {
		return nil
	}
	_, err = j.f.Write([]byte("\n"))
	return err
}

// Get returns a copy of the fault's record.
func (j *Journal) Get(id string) (*Record, bool) {
	r, ok := j.records[id]
	if !ok {
		return nil, false
	}
	c := *r
	return &c, true
}

// Records returns copies of every record, newest first.
func (j *Journal) Records() []*Record {
	out := make([]*Record, 0, len(j.records))
	for _, r := range j.records {
		c := *r
		out = append(out, &c)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Fault.ID > out[b].Fault.ID })
	return out
}

// Compact rewrites the journal with one line per fault, dropping ended faults
// beyond the newest keepEnded. It writes a new file, fsyncs it, renames it
// over the old one and fsyncs the directory, so a crash leaves either file.
func (j *Journal) Compact(keepEnded int) error {
	var keep []*Record
	ended := 0
	for _, r := range j.Records() {
		if !r.Fault.State.Live() {
			if ended++; ended > keepEnded {
				continue
			}
		}
		keep = append(keep, r)
	}
	tmp := j.path + ".tmp"
	if err := writeAll(tmp, keep); err != nil {
		return err
	}
	if err := os.Rename(tmp, j.path); err != nil {
		return fmt.Errorf("compact journal: %w", err)
	}
	if err := syncDir(filepath.Dir(j.path)); err != nil {
		return err
	}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("reopen journal: %w", err)
	}
	j.f.Close()
	j.f = f
	j.records = map[string]*Record{}
	j.lines = len(keep)
	for _, r := range keep {
		j.records[r.Fault.ID] = r
	}
	return nil
}

// Lines returns the number of lines in the file, which grows with every Put
// until Compact.
func (j *Journal) Lines() int { return j.lines }

func writeAll(path string, recs []*Record) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("compact journal: %w", err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("compact journal: %w", err)
		}
		w.Write(append(b, '\n'))
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("compact journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("compact journal: %w", err)
	}
	return f.Close()
}

// Close closes the file.
func (j *Journal) Close() error { return j.f.Close() }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync journal directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !isUnsupportedSync(err) {
		return fmt.Errorf("sync journal directory: %w", err)
	}
	return nil
}
