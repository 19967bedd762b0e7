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
	// ended holds the last line of each fault that had ended when the
	// journal was opened, decoded on first use: no command that injects,
	// recovers or sweeps needs ended faults, and decoding up to KeepEnded
	// of them cost every command milliseconds.
	ended map[string][]byte
	// undecodable is the first ended line that did not decode; Compact
	// refuses to rewrite the journal while it is set.
	undecodable error
	// tailOK is set once the file is known to end in a newline: checked, or
	// written by Put. Only the holder of the state lock writes the file.
	tailOK bool
}

// Open opens or creates the journal at path and loads it.
func Open(path string) (*Journal, error) {
	recs, ended, seq, lines, err := load(path, true)
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
	return &Journal{path: path, f: f, seq: seq, lines: lines, records: recs, ended: ended}, nil
}

// Load reads the journal at path without opening it for writing: the guard
// uses it to learn deadlines without taking the lock. A missing file is an
// empty journal.
func Load(path string) (map[string]*Record, uint64, error) {
	recs, _, seq, _, err := load(path, false)
	return recs, seq, err
}

// LoadLive is Load for the records of live faults only, which it decodes
// without decoding the ended ones (see parseLatest): the guard reads the
// journal several times a second.
func LoadLive(path string) ([]*Record, error) {
	recs, _, _, _, err := load(path, true)
	if err != nil {
		return nil, err
	}
	var live []*Record
	for _, r := range recs {
		if r.Fault.State.Live() {
			live = append(live, r)
		}
	}
	return live, nil
}

// load reads the file once and returns its records, the highest seq and the
// number of lines. With lazy, the last lines of ended faults come back
// undecoded in ended (see parseLatest) when the fast path applies.
func load(path string, lazy bool) (recs map[string]*Record, ended map[string][]byte, seq uint64, lines int, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]*Record{}, nil, 0, 0, nil
	}
	if err != nil {
		return nil, nil, 0, 0, fmt.Errorf("read journal: %w", err)
	}
	lines = bytes.Count(b, []byte("\n"))
	if recs, ended, seq, ok := parseLatest(b, lazy); ok {
		return recs, ended, seq, lines, nil
	}
	recs, seq, err = parseEvery(path, b)
	return recs, nil, seq, lines, err
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
//
// With lazy, the last line of a fault whose state (read by endedState) is not
// live is not decoded but returned in ended: only live faults are decoded up
// front. A line endedState cannot read exactly is decoded.
func parseLatest(b []byte, lazy bool) (recs map[string]*Record, ended map[string][]byte, seq uint64, ok bool) {
	latest := map[string][]byte{}
	for rest := b; len(rest) > 0; {
		line, tail, _ := bytes.Cut(rest, []byte("\n"))
		rest = tail
		line = bytes.TrimSuffix(line, []byte("\r"))
		if !validJSON(line) {
			return nil, nil, 0, false
		}
		v, s, id, ok := prefix(line)
		if !ok || v > FormatVersion {
			return nil, nil, 0, false
		}
		seq = max(seq, s)
		latest[id] = line
	}
	recs = make(map[string]*Record, len(latest))
	ended = map[string][]byte{}
	for id, line := range latest {
		if lazy && endedState(line) {
			ended[id] = line
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil || r.Fault.ID != id || r.Format > FormatVersion {
			return nil, nil, 0, false
		}
		recs[id] = &r
	}
	return recs, ended, seq, true
}

// endedState reports whether a well-formed line as Put writes it,
// {"v":1,"seq":12,"fault":{"id":"…","kind":"…","params":{…},["target":{…},]"state":"…",
// records a fault that is no longer live. It reads the fault's state token by
// token and answers false (decode it) for anything it cannot read exactly,
// and for a line holding more than one "state" key anywhere, so a live fault
// is never taken for an ended one.
func endedState(line []byte) bool {
	if bytes.Count(line, []byte(`"state":`)) != 1 {
		return false
	}
	_, _, _, ok := prefix(line)
	if !ok {
		return false
	}
	rest := line[bytes.Index(line, []byte(`"id":`))+len(`"id":`):]
	if rest, ok = skipString(rest); !ok {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"kind":`)); !ok {
		return false
	}
	if rest, ok = skipString(rest); !ok {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"params":`)); !ok {
		return false
	}
	if rest, ok = skipStringMap(rest); !ok {
		return false
	}
	if r, isTarget := bytes.CutPrefix(rest, []byte(`,"target":`)); isTarget {
		if rest, ok = skipStringMap(r); !ok {
			return false
		}
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"state":"`)); !ok {
		return false
	}
	end := bytes.IndexByte(rest, '"')
	if end <= 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return false
	}
	return !bulwark.State(rest[:end]).Live()
}

// skipString skips the JSON string at the start of b.
func skipString(b []byte) ([]byte, bool) {
	if len(b) == 0 || b[0] != '"' {
		return b, false
	}
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return b[i+1:], true
		}
	}
	return b, false
}

// skipStringMap skips null or a JSON object of string values at the start of
// b.
func skipStringMap(b []byte) ([]byte, bool) {
	if rest, ok := bytes.CutPrefix(b, []byte("null")); ok {
		return rest, true
	}
	rest, ok := bytes.CutPrefix(b, []byte("{"))
	if !ok {
		return b, false
	}
	if rest, ok := bytes.CutPrefix(rest, []byte("}")); ok {
		return rest, true
	}
	for {
		if rest, ok = skipString(rest); !ok {
			return b, false
		}
		if rest, ok = bytes.CutPrefix(rest, []byte(":")); !ok {
			return b, false
		}
		if rest, ok = skipString(rest); !ok {
			return b, false
		}
		if r, ok := bytes.CutPrefix(rest, []byte("}")); ok {
			return r, true
		}
		if rest, ok = bytes.CutPrefix(rest, []byte(",")); !ok {
			return b, false
		}
	}
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
	j.tailOK = false
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	j.tailOK = true
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	j.records[c.Fault.ID] = &c
	delete(j.ended, c.Fault.ID)
	j.lines++
	r.Seq = c.Seq
	return nil
}

// repairTail ends a torn last line with a newline, so the next record starts
// on a line of its own and the torn one stays a parse error no one trusts.
func (j *Journal) repairTail() error {
	if j.tailOK {
		return nil
	}
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
		j.tailOK = true
		return nil
	}
	_, err = j.f.Write([]byte("\n"))
	return err
}

// Get returns a copy of the fault's record.
func (j *Journal) Get(id string) (*Record, bool) {
	r, ok := j.records[id]
	if !ok {
		if _, ok = j.ended[id]; !ok {
			return nil, false
		}
		r = j.decodeEnded(id)
	}
	c := *r
	return &c, true
}

// Records returns copies of every record, newest first.
func (j *Journal) Records() []*Record {
	for id := range j.ended {
		j.decodeEnded(id)
	}
	return j.copies(func(*Record) bool { return true })
}

// Live returns copies of the records of live faults, newest first, without
// decoding the ended ones.
func (j *Journal) Live() []*Record {
	return j.copies(func(r *Record) bool { return r.Fault.State.Live() })
}

func (j *Journal) copies(keep func(*Record) bool) []*Record {
	out := make([]*Record, 0, len(j.records))
	for _, r := range j.records {
		if keep(r) {
			c := *r
			out = append(out, &c)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Fault.ID > out[b].Fault.ID })
	return out
}

// decodeEnded decodes the kept line of an ended fault into the records. A
// line that does not decode becomes a record of its id and prefix carrying
// the error, and Compact refuses to run, so the line is never lost.
func (j *Journal) decodeEnded(id string) *Record {
	line := j.ended[id]
	delete(j.ended, id)
	var r Record
	if err := json.Unmarshal(line, &r); err != nil || r.Fault.ID != id {
		if err == nil {
			err = fmt.Errorf("id %q in place of %q", r.Fault.ID, id)
		}
		err = fmt.Errorf("journal %s: record of ended fault %s does not decode: %w", j.path, id, err)
		v, seq, _, _ := prefix(line)
		r = Record{Format: v, Seq: seq, Fault: bulwark.Fault{ID: id, State: bulwark.StateFailed, Error: err.Error()}}
		if j.undecodable == nil {
			j.undecodable = err
		}
	}
	j.records[id] = &r
	return &r
}

// Compact rewrites the journal with one line per fault, dropping ended faults
// beyond the newest keepEnded. It writes a new file, fsyncs it, renames it
// over the old one and fsyncs the directory, so a crash leaves either file.
func (j *Journal) Compact(keepEnded int) error {
	var keep []*Record
	ended := 0
	recs := j.Records()
	if j.undecodable != nil {
		return fmt.Errorf("compact journal: %w", j.undecodable)
	}
	for _, r := range recs {
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
	j.tailOK = false
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
