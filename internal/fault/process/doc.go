// Package process holds the fault kinds that act on other processes and on
// services.
//
// Processes are identified by pid and start time (fault.Proc), so a pid
// reused after the target exited never receives a signal meant for it, and
// every signal goes through fault.Host.Signal (a pidfd where the kernel has
// one). The targets that are never allowed (pid 1, kernel threads, bulwark
// itself and its parent, the deny-list) are refused by fault.Host.CheckTarget
// before anything is changed; a name (or a port) must match exactly one
// process unless --all-matching, capped by --max-matches (DESIGN §6.7).
//
// process.hang stops a process with SIGSTOP and resumes it with SIGCONT on
// recovery.
//
// process.kill sends a signal (SIGKILL by default) to a process chosen by
// --pid, --name or --port (the process holding a socket listening on a local
// TCP port or bound to a UDP port, found through /proc/net/{tcp,udp}{,6} and
// the owners' /proc/PID/fd; bulwark's own network namespace only). Its
// effect is instantaneous and cannot be undone: Verify proves the process
// with the recorded start time is gone (a signal other than KILL that the
// process catches or ignores is reported in the evidence, with its SigCgt,
// SigIgn or SigBlk bit), Recover changes nothing, and VerifyRecovered reports,
// as evidence and never as a failure, whether a process of the same name or
// on the same port is running again. Its recovery class is OutlivesProcess:
// nothing of it survives a reboot and nothing needs undoing after a crash;
// the fault's duration bounds only the record and its claim on the target.
// SIGSTOP, SIGCONT and the terminal stop signals are refused: they are
// process.hang's, which undoes them.
//
// # Restart drills: kill plus a supervisor
//
// There is no process.restart kind. A restart drill is process.kill of a
// process that has a supervisor (systemd Restart=, Kubernetes, a watchdog,
// a cluster manager): the drill tests that the supervisor brings the service
// back and how long that takes: inject process.kill --name match-engine
// (SIGKILL) with a duration covering the expected restart, let the probes
// measure the outage, and read the step's recovery evidence ("restarted":
// whether a new match-engine process is running, and its pid).
//
// For a graceful restart use --signal TERM; for "the service is down until a
// person starts it" use service.stop, which starts it again on recovery.
//
// service.stop stops a systemd unit over D-Bus and starts it again on
// recovery if it was active before (see service.go). It needs systemd as
// PID 1. The D-Bus path (service_linux.go) has not been run on the machines
// this was written on, where PID 1 is not systemd: its logic is tested
// against a fake unit manager, and its parameter checks, deny-list and
// availability message for real.
package process
