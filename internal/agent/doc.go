// Package agent is `bulwark agent`: it enrols once with a join token, keeps
// one mTLS gRPC stream to the server's agent gateway, and reconciles the
// desired fault set the server sends through the host manager (DESIGN §4.1).
//
// Invariants:
//   - The agent holds the host manager (the state directory's lock) for its
//     whole life; while it runs, the host's CLI talks to it over
//     <state-dir>/agent.sock (0600, peer uid checked).
//   - Faults are injected with the server's ids, so a resent desired set
//     never injects a fault twice, and an id that has ended is never started
//     again.
//   - A stale epoch (below the last applied one, within one session) is
//     ignored; the first desired state of a new session is authoritative.
//   - The lease runs on this process's monotonic clock: when no renewal
//     arrives for the lease, every fault the server asked for is recovered.
//     A fault also ends at its own expiry (the host manager's deadline,
//     watched by the guard even if this process is killed).
//   - The server's addresses are on the management allow-list of every
//     network fault, pinned when the agent starts.
//   - Reserved labels (env, system, unit, zone) given with --labels are
//     refused: the server owns them.
package agent
