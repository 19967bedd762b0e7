// Package timeskew holds time.skew: the wall clock (CLOCK_REALTIME) moved
// by a signed offset, for drills of clock anomalies (a trading host whose
// timestamps run ahead of its venue's, certificates "not yet valid", TOTP
// codes refused, log ordering broken).
//
// Mechanism and its limits. A process's CLOCK_REALTIME cannot be shifted
// from outside it: time namespaces (CLONE_NEWTIME) offset only
// CLOCK_MONOTONIC and CLOCK_BOOTTIME, never CLOCK_REALTIME; a preload
// library (libfaketime) works only for a process started under it and not
// for static binaries or direct vDSO/syscall users (Go programs); ptrace or
// vDSO patching of a running process (Chaos Mesh's way) is intrusive and is
// not done here. So time.skew has one mode today, host-wide, with explicit
// opt-in (--host-wide): the whole host's CLOCK_REALTIME is stepped with
// clock_adjtime(ADJ_SETOFFSET), an atomic relative step done by the kernel,
// so no time is lost between reading and setting the clock. A per-process
// mode is not offered: --pid is listed in the parameters with the reason
// and refused with it (a ParamError naming --pid), so `fault kinds` and the
// CLI say why rather than the flag being unknown. A mode for processes the
// drill itself starts under libfaketime is possible later; it would not
// reach Go programs or static binaries.
//
// Exact restore. Prepare records an anchor: the difference between
// CLOCK_REALTIME and CLOCK_BOOTTIME, read between two boot-time reads. That
// difference stays constant while nobody steps the clock, whatever time
// passes. Apply steps the clock so that the difference is anchor + offset;
// Recover steps it back so that the difference is the anchor again, which
// keeps every second that passed during the fault (restore = anchored wall
// time + elapsed boot time, never "set back to the old value"). Both are
// computed from the receipt alone, so they are idempotent and work in any
// later process. Verify and Status read the difference back; a clock moved
// by anyone else (an NTP daemon, an operator) is drift.
//
// NTP. A running time daemon (chronyd, ntpd, systemd-timesyncd, ptp4l,
// phc2sys, timemaster) would step or slew the clock back during the fault
// and fight the restore. time.skew refuses while one runs, unless
// --ntp-daemon=ignore says the drill has cut the daemon off its servers
// (with ntp.block) or accepts the fight. Stepping the clock sets the
// kernel's STA_UNSYNC, so the kernel's 11-minute RTC sync does not copy the
// skew into the hardware clock; a reboot ends the fault (the clock comes
// back from the RTC and NTP).
//
// Deadlines are on CLOCK_BOOTTIME (internal/hostmgr), so a skew never
// stretches or shortens this or any other fault.
//
// Tests never step this machine's clock: CLOCK_REALTIME is not namespaced,
// so the sandbox cannot contain it. The kind's logic runs against a fake
// clock; the clock_adjtime path itself is left to a VM harness.
package timeskew
