// Package disk holds the disk fault kinds: disk.fill (a preallocated file that
// takes the free space of a filesystem), disk.io (a helper process that
// reads and writes a scratch file at a paced rate) and disk.throttle
// (bytes-per-second and IOPS caps on a target process through the cgroup
// I/O controller, v1 blkio or v2 io.max).
//
// disk.latency and disk.error are not offered: the kernel's mechanisms for
// them (dm-delay, dm-flakey, fail_make_request with debugfs) need a device
// mapper target set up under the target's filesystem or a kernel built with
// fault injection, which cannot be added to a running process's files
// safely.
//
// All three kinds run on Linux only.
package disk
