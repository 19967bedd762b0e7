// Package crashpoint marks the places where a crash is most dangerous to the
// safety story, so tests can kill the process exactly there and prove that
// the next sweep converges (DESIGN §14).
//
// Crash points are compiled in only with the build tag "failpoints" (through
// go.etcd.io/gofail's runtime, enabled by GOFAIL_FAILPOINTS). A production
// build has no failpoint runtime at all: gofail's runtime reads environment
// variables at start-up, and GOFAIL_HTTP would open a listener in a root
// process.
package crashpoint

// The crash points of the host manager and guard.
const (
	JournaledNotApplied = "journaledNotApplied"
	AppliedNotMarked    = "appliedNotMarked"
	HalfRecovered       = "halfRecovered"
	GuardMidSweep       = "guardMidSweep"
)

// All lists every crash point, for matrix tests.
var All = []string{JournaledNotApplied, AppliedNotMarked, HalfRecovered, GuardMidSweep}
