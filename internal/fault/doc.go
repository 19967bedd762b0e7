// Package fault defines what a fault kind is and keeps the registry that is
// the only list of kinds.
//
// A kind changes one kind of host state and can always undo the change from
// what it wrote down before making it. The host manager drives every kind
// through the same life cycle (DESIGN §4.1.1):
//
//	Prepare → journal (fsync) → Apply → journal → Verify → active
//	   … expiry, recover, halt or sweep …
//	Recover → VerifyRecovered → recovered
//
// Prepare reads the host and computes the change and its exact undo data, and
// changes nothing. Apply makes the whole change or none of it. Verify reads the
// change back (and measures it where that is cheap) and returns evidence; a
// fault is active only after Verify succeeds. Recover is idempotent and works
// from the receipt alone in any later process: after a crash, a SIGKILL, or a
// reboot. VerifyRecovered proves the host is as it was.
//
// See README.md in this directory for how to add a kind.
package fault
