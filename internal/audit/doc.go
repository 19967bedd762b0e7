// Package audit is Bulwark's regulator-grade audit log (DESIGN §6.6): an
// append-only hash chain of entries with a gapless sequence number, signed
// checkpoints exported outside the database, and a verifier that names the
// first entry that can no longer be trusted.
//
// Invariants:
//   - Entry n's hash is H(prev ‖ canonical JSON of {seq, time, user, action,
//     resource, requestDigest, result}), where prev is the raw bytes of entry
//     n-1's hash (none for entry 1) and H is the algorithm named by the
//     entry's own Alg ("sha256" or "sm3"), so the algorithm may change
//     between entries. Canonical JSON is RFC 8785 (see Canonicalize).
//   - Seq starts at 1 and has no gaps: the Store assigns it inside the
//     transaction that inserts the entry. The Store offers no delete.
//   - Record never loses an entry it returned without error: when the store
//     is unavailable the entry goes to an fsynced spool file, and the next
//     Record or Flush appends the spooled entries first, in order. An entry
//     is appended at most once, by its ID, even after a crash between the
//     append and the spool's truncation.
//   - A checkpoint {seq, hash, time} is signed with an ed25519 key read from
//     a file outside the database, stored in the database and exported to
//     sinks (a JSON-lines file, syslog), so that a recomputed chain or a
//     truncated tail no longer matches a checkpoint held elsewhere.
package audit
