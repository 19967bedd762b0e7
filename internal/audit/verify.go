package audit

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
)

// VerifyOptions say what Verify checks the chain against besides itself.
type VerifyOptions struct {
	// PublicKey verifies checkpoint signatures. Without it checkpoints are
	// still compared with the chain, but their signatures are not checked,
	// and the report says so.
	PublicKey ed25519.PublicKey
	// OldKeys are keys used before a rotation: a checkpoint is verified
	// with the key its KeyID names, among PublicKey and OldKeys.
	OldKeys []ed25519.PublicKey
	// CheckpointFile is a FileSink's file: the copy kept outside the
	// database, which is what detects a recomputed chain or a truncated
	// tail when the database's own checkpoints were rewritten too.
	CheckpointFile string
	// Checkpoints are more exported checkpoints (collected from syslog, say).
	Checkpoints []Checkpoint
}

// Report is Verify's answer. FirstBadSeq is the first entry that can no
// longer be trusted (0 when OK), and Problem says why. The JSON shape is
// the API's (DESIGN §5: ok, entries, firstBadEntry, error).
type Report struct {
	OK          bool     `json:"ok"`
	Entries     int64    `json:"entries"`
	FirstBadSeq int64    `json:"firstBadEntry,omitempty"`
	Problem     string   `json:"error,omitempty"`
	Checkpoints int      `json:"checkpoints"`
	Warnings    []string `json:"warnings,omitempty"`
}

// sourced is a checkpoint with where it was found.
type sourced struct {
	Checkpoint
	from string
}

// verifier accumulates a Report; bad keeps the lowest bad seq.
type verifier struct {
	rep    Report
	hashAt map[int64]string // the chain's hash at each checkpointed seq
}

func (v *verifier) bad(seq int64, format string, args ...any) {
	if v.rep.FirstBadSeq == 0 || seq < v.rep.FirstBadSeq {
		v.rep.FirstBadSeq, v.rep.Problem = seq, fmt.Sprintf(format, args...)
	}
}

// Verify recomputes the chain in store and checks it against every
// checkpoint (the store's, opts.CheckpointFile's and opts.Checkpoints):
// seq gaps (a deleted row), an entry whose hash does not match its contents
// (an edited row), a link that does not match the previous entry's hash (a
// rewritten row), a checkpoint whose signature fails, a checkpoint whose
// hash no longer matches the chain (a recomputed chain: the change lies
// after the last matching checkpoint), and a checkpoint beyond the last
// entry (a truncated tail). It returns an error only when it could not
// read the store or the checkpoint file.
func Verify(ctx context.Context, store Store, opts VerifyOptions) (Report, error) {
	cps, err := collectCheckpoints(ctx, store, opts)
	if err != nil {
		return Report{}, err
	}
	v := &verifier{hashAt: map[int64]string{}}
	for _, c := range cps {
		v.hashAt[c.Seq] = ""
	}
	last, err := v.walkFrom(ctx, store, 1, "")
	if err != nil {
		return Report{}, err
	}
	v.checkpointsFrom(cps, 0, last, keyring(opts))
	if keyring(opts) == nil && len(cps) > 0 {
		v.rep.Warnings = append(v.rep.Warnings, "no public key: checkpoint signatures were not checked")
	}
	v.rep.OK = v.rep.FirstBadSeq == 0
	return v.rep, nil
}

func collectCheckpoints(ctx context.Context, store Store, opts VerifyOptions) ([]sourced, error) {
	var cps []sourced
	db, err := store.Checkpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	for _, c := range db {
		cps = append(cps, sourced{c, "database"})
	}
	if opts.CheckpointFile != "" {
		file, err := ReadCheckpointFile(opts.CheckpointFile)
		if err != nil {
			return nil, err
		}
		for _, c := range file {
			cps = append(cps, sourced{c, opts.CheckpointFile})
		}
	}
	for _, c := range opts.Checkpoints {
		cps = append(cps, sourced{c, "exported"})
	}
	slices.SortStableFunc(cps, func(a, b sourced) int { return cmp.Compare(a.Seq, b.Seq) })
	return cps, nil
}

// scanner is the read side of a Store that walk needs.
type scanner interface {
	Scan(ctx context.Context, from int64, fn func(Entry) error) error
}

// walkFrom recomputes the chain entry by entry from seq start, whose
// prev_hash should be prevHash, and returns the last seq seen (start-1 for
// none).
func (v *verifier) walkFrom(ctx context.Context, store scanner, start int64, prevHash string) (int64, error) {
	expected := start
	err := store.Scan(ctx, start, func(e Entry) error {
		v.rep.Entries++
		if e.Seq != expected {
			v.bad(expected, "seq %d is missing (the next entry is seq %d): a row was deleted", expected, e.Seq)
		} else if e.PrevHash != prevHash {
			v.bad(e.Seq-1, "the hash of seq %d does not match the prev_hash of seq %d: seq %d was rewritten", e.Seq-1, e.Seq, e.Seq-1)
		}
		if h, err := ComputeHash(&e); err != nil {
			v.bad(e.Seq, "seq %d cannot be hashed: %v", e.Seq, err)
		} else if h != e.Hash {
			v.bad(e.Seq, "the hash of seq %d does not match its contents: the row was edited", e.Seq)
		}
		if _, ok := v.hashAt[e.Seq]; ok {
			v.hashAt[e.Seq] = e.Hash
		}
		expected, prevHash = e.Seq+1, e.Hash
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read audit entries: %w", err)
	}
	return expected - 1, nil
}

// checkpointsFrom checks each checkpoint, in seq order, against the chain
// of entries base+1..last.
func (v *verifier) checkpointsFrom(cps []sourced, base, last int64, keys map[string]ed25519.PublicKey) {
	good := base // the last checkpointed seq whose hash matched
	for _, c := range cps {
		if keys != nil {
			if err := verifyWith(keys, c.Checkpoint); err != nil {
				v.bad(max(c.Seq, 1), "checkpoint at seq %d (%s, key %s): %v", c.Seq, c.from, c.KeyID, err)
				continue
			}
		}
		switch h := v.hashAt[c.Seq]; {
		case c.Seq <= base:
			v.bad(base+1, "checkpoint at seq %d (%s) names no entry", c.Seq, c.from)
		case c.Seq > last:
			v.bad(last+1, "checkpoint at seq %d (%s) is beyond the last entry %d: the tail of the log was deleted", c.Seq, c.from, last)
		case h == "":
			// The row is missing; walk reported the gap.
		case h != c.Hash:
			v.bad(good+1, "the chain's hash at seq %d does not match the checkpoint signed %s (%s): an entry in %d..%d was changed and the chain recomputed",
				c.Seq, c.Time.UTC().Format("2006-01-02T15:04:05Z"), c.from, good+1, c.Seq)
		default:
			v.rep.Checkpoints++
			good = max(good, c.Seq)
		}
	}
	if last > good {
		v.rep.Warnings = append(v.rep.Warnings, fmt.Sprintf("entries %d..%d follow the last matching checkpoint: deleting them would not be detected", good+1, last))
	}
}

// keyring maps key ids to the keys of opts; nil when there are none.
func keyring(opts VerifyOptions) map[string]ed25519.PublicKey {
	if opts.PublicKey == nil && len(opts.OldKeys) == 0 {
		return nil
	}
	keys := map[string]ed25519.PublicKey{}
	for _, k := range append([]ed25519.PublicKey{opts.PublicKey}, opts.OldKeys...) {
		if k != nil {
			keys[KeyID(k)] = k
		}
	}
	return keys
}

// verifyWith checks c's signature with the key its KeyID names. A KeyID
// that names none is tried against every key, so a forged KeyID still
// fails on the signature, not on the name.
func verifyWith(keys map[string]ed25519.PublicKey, c Checkpoint) error {
	if k, ok := keys[c.KeyID]; ok {
		return c.VerifySignature(k)
	}
	for _, k := range keys {
		if c.VerifySignature(k) == nil {
			return nil
		}
	}
	return fmt.Errorf("signature does not verify with the public key (signed by unknown key %s)", c.KeyID)
}
