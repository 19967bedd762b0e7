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
// mem.pressure runs the same helper inside a memory cgroup: the target
// process's (--pid) or one named (--cgroup). The helper writes its own pid to
// the cgroup's cgroup.procs before it maps anything, so every page it touches
// is charged to that cgroup, and the cgroup's limit and reclaim press on the
// target and the helper together; --percent is of the cgroup's limit in
// force (the lowest of its own and its ancestors' memory.limit_in_bytes on
// cgroup v1, memory.max on v2, detected at run time). It leaves the cgroup by
// exiting on recover, which uncharges its pages. Prepare refuses the root
// memory cgroup (a target with no cgroup of its own: pressure there would be
// host-wide, which is mem.fill), a cgroup that holds bulwark itself, a size
// above the limit, and a size that would take the host below its reserve.
// When the cgroup runs out, its OOM killer picks the helper first
// (oom_score_adj 1000) unless --oom-score-adj says otherwise; Status then
// reports the helper gone.
package mem
