// Package hostmgr is the host manager: the only owner of a state directory
// and its fault journal (DESIGN §4.1.1). The standalone CLI, the agent and the
// local drill executor all inject and recover through it.
//
// Invariants:
//   - One Manager per state directory at a time (flock on <dir>/lock).
//   - A fault's receipt is in the journal, fsynced, before Apply; it is active
//     only after Verify; a failed Verify recovers and ends the fault failed.
//   - Deadlines are kept on CLOCK_BOOTTIME with the kernel's boot_id, so a
//     clock step never stretches a fault and a reboot is recognised.
//   - A recovery that fails leaves the fault stuck; Sweep retries it with
//     backoff, and a stuck fault's resource accepts no new fault.
//   - Bad input is refused before anything is journaled.
package hostmgr
