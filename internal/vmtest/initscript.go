package vmtest

// initScript is the VM's /init, run by busybox sh as PID 1. It is a constant:
// everything that varies per run (the marker, the test binary's arguments and
// environment, the working directory) is read from files under /vmtest/run
// line by line with "read -r", never parsed as shell code. Lines it prints
// that start with the marker are the harness's protocol:
//
//	MARKER init                    /init started (the kernel has booted)
//	MARKER insmod-failed PATH      a module did not load (soft dependencies,
//	                               marked "? " in /vmtest/modules, may fail)
//	MARKER modules                 the modules are loaded, the tests start
//	MARKER exit=N                  the test binary exited with status N
const initScript = `#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
read -r marker < /vmtest/run/marker
echo "$marker init"
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec devpts /dev/pts
mount -t tmpfs -o nosuid,nodev tmpfs /dev/shm
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup || echo "vmtest: no cgroup2"
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
ip link set lo up
while IFS= read -r m; do
	case "$m" in
	"") ;;
	"? "*) insmod "${m#? }" 2>/dev/null || echo "vmtest: optional module ${m#? } not loaded" ;;
	*) insmod "$m" || echo "$marker insmod-failed $m" ;;
	esac
done < /vmtest/modules
echo "$marker modules"
set --
while IFS= read -r a; do set -- "$@" "$a"; done < /vmtest/run/args
while IFS= read -r kv; do export "$kv"; done < /vmtest/run/env
read -r dir < /vmtest/run/dir
mkdir -p "$dir"
cd "$dir" || cd /
/vmtest/run/test "$@"
echo "$marker exit=$?"
sync
poweroff -f
`
