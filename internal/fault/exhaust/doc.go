// Package exhaust holds the resource-exhaustion kinds: fd.exhaust,
// pid.exhaust and port.exhaust (DESIGN §3, §6.11).
//
// Exhaustion can lock a host out, so each kind is scoped by default:
//
//   - fd.exhaust lowers one target process's RLIMIT_NOFILE (prlimit(2)) so
//     that its next open fails with EMFILE; other processes are untouched.
//   - pid.exhaust moves one target process into a new child of its own pids
//     cgroup (cgroup v1 or v2, package cgroup) whose pids.max is its task
//     count plus --headroom, so its next fork or clone fails with EAGAIN;
//     recovery moves it back and removes the child. RLIMIT_NPROC is not used:
//     the kernel counts it against every task of the target's user, exempts
//     root, and changing it for another user's process needs
//     CAP_SYS_RESOURCE.
//   - port.exhaust starts a helper that holds connections to one destination
//     the user names until the local ephemeral port range for that
//     destination is used up (new connects to it fail with EADDRNOTAVAIL),
//     always leaving a reserve of ports unless told otherwise; connects to
//     other destinations still work.
//
// Host-wide modes (--host-wide) are refused without --reserve, and are not
// implemented yet even with one.
package exhaust
