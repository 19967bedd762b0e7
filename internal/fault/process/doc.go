// Package process holds the fault kinds that act on other processes.
//
// process.hang stops a process with SIGSTOP and resumes it with SIGCONT on
// recovery. Processes are identified by pid and start time (fault.Proc), so a
// pid reused after the target exited never receives a signal meant for it,
// and every signal goes through fault.Host.Signal (a pidfd where the kernel
// has one). The targets that are never allowed (pid 1, kernel threads,
// bulwark itself, the deny-list) are refused by fault.Host.CheckTarget before
// anything is changed.
package process
