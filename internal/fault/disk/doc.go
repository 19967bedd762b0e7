// Package disk holds the disk fault kinds: disk.fill (a preallocated file that
// takes the free space of a filesystem), disk.io (a helper process that
// reads and writes a scratch file at a paced rate) and disk.throttle
// (bytes-per-second and IOPS caps on a target process through the cgroup
// I/O controller, v1 blkio or v2 io.max).
//
// disk.latency and disk.error are registered, so `fault kinds` lists them,
// and are always unavailable, with a reason built from what the host has
// (probe_linux.go): fail_make_request and fail_io_timeout (debugfs, kernel
// built with CONFIG_FAULT_INJECTION) fail whole requests of a device with
// host-global probability, interval and times, can be narrowed to a task but
// never to a file, and never delay; dm-delay and dm-flakey act on a whole
// device-mapper device, for every process using it, and only where the
// filesystem already sits on one; a FUSE interposer would have to be mounted
// over the target's directory and take over its open descriptors. None can
// be scoped to one process's files with an exact restore, so Prepare refuses
// with the "unavailable" code and the reason. This host's kernel has neither
// fault injection nor device-mapper.
//
// All the kinds run on Linux only.
package disk
