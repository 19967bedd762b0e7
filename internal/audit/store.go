package audit

import "context"

// Head is the newest entry of a chain: its seq and hash (Seq 0 and Hash ""
// for an empty chain).
type Head struct {
	Seq  int64
	Hash string
}

// SealFunc fills e's Seq, PrevHash and Hash so that it follows prev. The
// Store calls it once per entry, inside its transaction.
type SealFunc func(prev Head, e *Entry) error

// Store keeps the chain and its checkpoints. It is implemented by
// internal/store/sqlite (AuditStore); audittest.Run is its contract suite.
//
// Contract:
//   - Append appends entries in order after the current head, in one
//     transaction that excludes every other writer (of this process or
//     another), calling seal for each with the head before it and storing
//     what seal set. Either all are stored or none. An entry whose ID is
//     already stored is skipped (not sealed, not returned), which makes a
//     replay after a crash idempotent. It returns the stored entries.
//   - Seq is gapless: seal must set prev.Seq+1, and Append refuses (EINTERNAL)
//     anything else.
//   - Scan calls fn for every entry with Seq >= from in seq order, from one
//     consistent snapshot; an error from fn stops it and is returned.
//   - There is no delete and no update.
//   - An unavailable store (closed, locked past ctx) returns an error whose
//     bulwark.ErrorCode is not EINVALID.
//   - Methods are safe for concurrent use.
type Store interface {
	Append(ctx context.Context, entries []Entry, seal SealFunc) ([]Entry, error)
	Head(ctx context.Context) (Head, error)
	Scan(ctx context.Context, from int64, fn func(Entry) error) error
	AddCheckpoint(ctx context.Context, c Checkpoint) error
	Checkpoints(ctx context.Context) ([]Checkpoint, error)
}
