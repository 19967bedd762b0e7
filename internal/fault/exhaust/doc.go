// Package exhaust holds the resource-exhaustion kinds: fd.exhaust,
// pid.exhaust and port.exhaust (DESIGN §3, §6.11).
//
// Exhaustion can lock a host out, so each kind is scoped by default:
//
//   - fd.exhaust lowers one target process's RLIMIT_NOFILE (prlimit(2)) so
//     that its next open fails with EMFILE; other processes are untouched.
//   - pid.exhaust lowers one target process's RLIMIT_NPROC so that its next
//     fork or clone fails with EAGAIN. The kernel counts RLIMIT_NPROC against
//     every task of the target's real user, so the threshold is honest only
//     for a target that runs as a dedicated user; root and processes holding
//     CAP_SYS_RESOURCE or CAP_SYS_ADMIN are exempt and refused.
//   - port.exhaust starts a helper that holds connections to one destination
//     the user names until the local ephemeral port range for that
//     destination is used up (new connects to it fail with EADDRNOTAVAIL),
//     always leaving a reserve of ports unless told otherwise; connects to
//     other destinations still work.
//
// Host-wide modes (--host-wide) are refused without --reserve, and are not
// implemented yet even with one.
package exhaust
