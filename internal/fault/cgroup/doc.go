// Package cgroup finds the cgroup hierarchies of a host at run time and
// creates, fills and removes the child cgroups that kinds use.
//
// Three layouts exist and all are detected from /proc/self/mountinfo (under
// Host.ProcRoot), falling back to the directory layout under Host.CgroupRoot:
//
//   - unified (cgroup v2 only): one cgroup2 mount at CgroupRoot, controllers
//     listed in its cgroup.controllers;
//   - hybrid: v1 controllers mounted one per directory under CgroupRoot
//     (CgroupRoot/memory, CgroupRoot/blkio, …) and a cgroup2 mount at
//     CgroupRoot/unified holding the controllers no v1 hierarchy claimed;
//   - legacy (cgroup v1 only): v1 mounts, no cgroup2.
//
// A controller is used through v2 when the cgroup2 mount offers it, through
// v1 otherwise. The interface files differ between the versions:
//
//	what                    v1 (file: value)                              v2 (file: value)
//	memory hard limit       memory.limit_in_bytes: bytes, -1 = none        memory.max: bytes or "max"
//	memory soft limit       memory.soft_limit_in_bytes: bytes              memory.high: bytes or "max" (throttles and reclaims)
//	memory in use           memory.usage_in_bytes                          memory.current
//	I/O read bytes/s        blkio.throttle.read_bps_device: "MAJ:MIN N"    io.max: "MAJ:MIN rbps=N wbps=N riops=N wiops=N"
//	I/O write bytes/s       blkio.throttle.write_bps_device: "MAJ:MIN N"   (one line per device; "max" = unlimited;
//	I/O read ops/s          blkio.throttle.read_iops_device: "MAJ:MIN N"    keys not written keep their value)
//	I/O write ops/s         blkio.throttle.write_iops_device: "MAJ:MIN N"  (v1: writing N = 0 removes the rule)
//	process count limit     pids.max: N or "max"                           pids.max: N or "max"
//	members                 cgroup.procs (processes), tasks (threads)      cgroup.procs, cgroup.threads
//
// On v2 a child only has a controller's files when the parent lists the
// controller in cgroup.subtree_control; CreateChild refuses rather than
// changing a parent it does not own (EnableController does that explicitly,
// for a caller that records and undoes it).
//
// Every operation refuses paths outside the detected cgroup mounts.
package cgroup
