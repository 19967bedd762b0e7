// Package mem holds the memory fault kinds.
//
// mem.fill holds a given amount of anonymous memory in a helper process
// (`bulwark helper mem-fill`): the pages are mapped privately, transparent
// huge pages are declined so the level is exact to a page, and every page is
// written, so the resident size is the requested size and not a promise.
// The helper sets its own oom_score_adj (1000 by default) so that, when the
// kernel must kill, the drill decides who dies: the burner first. It checks
// MemAvailable before every step and stops growing (and says so) rather than
// go below the reserve; Prepare refuses a size that would.
//
// mem.pressure (a helper that joins a target's memory cgroup before it maps
// anything, so the cgroup's limit and reclaim press on target and helper
// together) is not implemented yet; the cgroup package has what it needs.
package mem
