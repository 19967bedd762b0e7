// Package cpu implements the cpu.load fault kind: an accurate, bounded CPU
// load held by a helper process (recovery class OutlivesNothing).
//
// Apply re-executes the bulwark binary as
//
//	bulwark helper cpu-burn --fault ID --deadline T --percent P --cores N --mode M --status FILE
//
// in its own session. The helper runs one goroutine per core, each locked to
// its OS thread and pinned with sched_setaffinity to one CPU, and burns a duty
// cycle of about 10 ms whose busy part is measured on the thread's own CPU
// clock (CLOCK_THREAD_CPUTIME_ID), so preemption never counts as burn. Once a
// second each burner compares the CPU its thread used with what it was asked
// for and corrects its duty cycle. In --mode add each core gets --percent on
// top of whatever else runs; in --mode hold the helper reads /proc/stat ten
// times a second and burns only the difference between the target and the
// other load on its cores (never negative).
//
// The helper exits by itself at its deadline, checked against both the wall
// clock and a monotonic timer computed at start, and on SIGTERM; it does not
// rely on Pdeathsig. It writes the level it achieved to a status file once a
// second. Recover signals the journaled helper (pid and start time checked)
// and any stray whose command line names the fault, so a crash between spawn
// and journaling the pid leaves nothing behind.
package cpu
