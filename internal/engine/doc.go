// Package engine turns a drill into a run (DESIGN §4.4, §5.1):
//
//	validate → select hosts within the blast radius → (dry run stops here)
//	→ steady state before (refuse if already unhealthy) → steps, with the
//	probes sampling and the abort conditions evaluated all along → recover
//	everything (also on abort, error, Ctrl-C: under its own context and
//	timeout) → settle → measures and verdict → reports
//
// Every transition is a bulwark.RunEvent appended to the store before it
// takes effect, so a later bulwark command can finish a run whose process
// was killed. Faults go through an Executor: the local one drives this
// host's manager; the control plane adds a remote one without touching the
// engine.
package engine
