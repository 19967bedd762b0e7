package audit

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/bulwarkhq/bulwark"
)

// ArchiveLine is one line of an archive: an entry or a checkpoint.
type ArchiveLine struct {
	Entry      *Entry      `json:"entry,omitempty"`
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
}

var errArchiveDone = errors.New("archive range done")

// Archive writes entries from..to (inclusive) as JSON lines to w, then the
// stored checkpoints whose seq is in the range. Entries are never deleted
// from the store; an archive is a copy that can be verified on its own
// (VerifyArchive) and kept elsewhere. It is EINVALID unless a checkpoint
// exists at seq to, so that every archive carries the signature that
// vouches for its last entry.
func Archive(ctx context.Context, store Store, from, to int64, w io.Writer) error {
	if from < 1 || to < from {
		return bulwark.Errorf(bulwark.EINVALID, "archive: range %d..%d is empty or starts before seq 1", from, to)
	}
	cps, err := store.Checkpoints(ctx)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	var inRange []Checkpoint
	covered := false
	for _, c := range cps {
		if c.Seq >= from && c.Seq <= to {
			inRange = append(inRange, c)
			covered = covered || c.Seq == to
		}
	}
	if !covered {
		return bulwark.Errorf(bulwark.EINVALID, "archive: no checkpoint at seq %d; end the range at a checkpoint (%s)", to, nearby(cps, to))
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	next := from
	err = store.Scan(ctx, from, func(e Entry) error {
		if e.Seq > to {
			return errArchiveDone
		}
		next = e.Seq + 1
		return enc.Encode(ArchiveLine{Entry: &e})
	})
	if err != nil && !errors.Is(err, errArchiveDone) {
		return fmt.Errorf("archive: %w", err)
	}
	if next != to+1 {
		return fmt.Errorf("archive: the store ends at seq %d, before %d", next-1, to)
	}
	for i := range inRange {
		if err := enc.Encode(ArchiveLine{Checkpoint: &inRange[i]}); err != nil {
			return fmt.Errorf("archive: %w", err)
		}
	}
	return bw.Flush()
}

// nearby names the checkpoint seqs just before and after seq.
func nearby(cps []Checkpoint, seq int64) string {
	var before, after int64
	for _, c := range cps {
		if c.Seq < seq && c.Seq > before {
			before = c.Seq
		}
		if c.Seq > seq && (after == 0 || c.Seq < after) {
			after = c.Seq
		}
	}
	switch {
	case before == 0 && after == 0:
		return "there are none yet"
	case after == 0:
		return fmt.Sprintf("the nearest is %d", before)
	case before == 0:
		return fmt.Sprintf("the nearest is %d", after)
	}
	return fmt.Sprintf("the nearest are %d and %d", before, after)
}

// VerifyArchive verifies an archive written by Archive on its own: the
// chain inside it (its first entry's prev_hash is taken as given: compare
// it with the previous archive's last hash), and every checkpoint in it,
// which must include one at its last entry. Problems are reported as by
// Verify; only an unreadable archive is an error.
func VerifyArchive(r io.Reader, opts VerifyOptions) (Report, error) {
	mem := &memStore{}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	for n := 1; ; n++ {
		var l ArchiveLine
		if err := dec.Decode(&l); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return Report{}, bulwark.Errorf(bulwark.EINVALID, "archive line %d: %v", n, err)
		}
		switch {
		case l.Entry != nil:
			mem.entries = append(mem.entries, *l.Entry)
		case l.Checkpoint != nil:
			opts.Checkpoints = append(opts.Checkpoints, *l.Checkpoint)
		}
	}
	if len(mem.entries) == 0 {
		return Report{}, bulwark.Errorf(bulwark.EINVALID, "archive holds no entry")
	}
	first, last := mem.entries[0], mem.entries[len(mem.entries)-1]
	v := &verifier{hashAt: map[int64]string{}}
	cps := make([]sourced, 0, len(opts.Checkpoints))
	for _, c := range opts.Checkpoints {
		cps = append(cps, sourced{c, "archive"})
		v.hashAt[c.Seq] = ""
	}
	slices.SortStableFunc(cps, func(a, b sourced) int { return cmp.Compare(a.Seq, b.Seq) })
	if _, err := v.walkFrom(context.Background(), mem, first.Seq, first.PrevHash); err != nil {
		return Report{}, err
	}
	v.checkpointsFrom(cps, first.Seq-1, last.Seq, keyring(opts))
	if keyring(opts) == nil {
		v.rep.Warnings = append(v.rep.Warnings, "no public key: checkpoint signatures were not checked")
	}
	v.rep.OK = v.rep.FirstBadSeq == 0
	return v.rep, nil
}

// memStore is the read side of a Store over entries in memory.
type memStore struct{ entries []Entry }

func (m *memStore) Scan(_ context.Context, from int64, fn func(Entry) error) error {
	for _, e := range m.entries {
		if e.Seq >= from {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}
