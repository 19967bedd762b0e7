// Package script holds script.run: a fault made of two pre-staged,
// allow-listed executables, one that injects and one that recovers, each run
// as an argv (never through a shell), for drills whose effect no built-in
// kind has (stopping a vendor's feed handler with its own tool, flipping an
// application's maintenance switch).
//
// DESIGN §6.9: only executables on the host's allow-list, pinned by SHA-256,
// are run, and only on the host. The list is the command probe's
// (internal/probe), in sha256sum's format, read from --allow-list, else
// BULWARK_ALLOW_LIST, else <state-dir>/allow-list; without a list the fault
// is refused. The bytes are hashed through the descriptor that is then
// executed (probe.CheckedCommand), so a file swapped after the check is never
// run.
//
// At inject the recover argv and the pinned sums of both executables (and of
// a "#!" script's interpreter) are written into the receipt, so the guard, the
// sweep or a later `fault recover` runs the very same recover command at
// expiry in any process, whatever the list file says by then; a recover
// executable whose bytes changed is refused and the fault stays stuck for a
// person to see. Recover runs the recover argv once: after it exits 0 a
// marker under the fault's data directory makes later calls no-ops, so the
// recover command itself need not be idempotent.
//
// Bulwark cannot read back what a script did: Verify reports the inject
// command's exit status, run time and the SHA-256 of its output (never the
// output itself), and nothing more. Production-class environments must deny
// script.run by policy (DESIGN §6.8: "no script" by default); today the
// host manager's LocalPolicy can only deny it by kind (DenyKinds), the
// control plane's policy gate is where the environment is known.
package script
