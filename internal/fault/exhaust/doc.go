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
// Host-wide modes are asked for with --host-wide (never a default) and keep
// a reserve, which has a default and a minimum per resource. A helper
// (`bulwark helper exhaust-hold`) takes the resource until it holds the plan
// or only the reserve is free, re-reading what is free before every step,
// so the fault itself never takes the host below the reserve; it exits at
// its deadline or on recover, and the kernel frees what it held. It does not
// give back when others then use the reserve: running out is the drill.
// What "host-wide" means differs per kind:
//
//   - fd.exhaust --host-wide: the kernel's file table, fs.file-nr against
//     fs.file-max, which no namespace has its own of. The helper opens
//     /dev/null again and again (each open is a new struct file; a dup would
//     not count). Reserve: default the larger of 5 % of file-max and 4096,
//     minimum 1024. One helper holds at most its RLIMIT_NOFILE (fs.nr_open
//     with CAP_SYS_RESOURCE) less 64, so a host whose free handles beyond
//     the reserve exceed that (file-max is in the millions on most servers)
//     is refused with the numbers, not half-exhausted.
//   - pid.exhaust --host-wide: the task slots of bulwark's pid namespace:
//     its kernel.pid_max (per pid namespace since Linux 6.14; before, the
//     host's) less the 300 pids the kernel skips after a wrap-around
//     (RESERVED_PIDS, counted as taken, so up to 300 more than the reserve
//     may stay free until pids wrap), less its tasks; and the kernel's
//     threads-max less every task (loadavg). The helper starts threads (a
//     goroutine locked to its thread and blocked). Reserve: default the
//     larger of 5 % of the capacity and 256, minimum 64; at most 32768
//     threads per helper (about 1 GiB), a larger plan is refused.
//   - port.exhaust --host-wide: the ephemeral range of bulwark's network
//     namespace (ip_local_port_range, per namespace), for every destination:
//     the helper binds each free port of the range to 0.0.0.0 without
//     SO_REUSEADDR, which takes it from every connect's automatic choice,
//     IPv4 and IPv6. Ports in use are skipped. Each remaining port still
//     serves one connection per destination, so the reserve is that many
//     connects to each destination. Reserve: as --reserve for one
//     destination (default 5 %), minimum 16. TCP only.
//
// The tests never exhaust this machine: fd runs against a fake fs.file-nr
// bound over the sandbox's /proc, pid in the sandbox's own pid namespace
// with its pid_max lowered, port in the sandbox's network namespace.
package exhaust
