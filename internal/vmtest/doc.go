// Package vmtest runs a package's tests inside a small Linux VM booted from
// Debian's kernel (linux-image-amd64), for kernel features the machines here
// lack: netem, ifb and friends (DESIGN §14, "Real netem in a VM").
//
// # Use
//
// One host-side test boots the VM; the tests it names check InVM and skip
// outside it:
//
//	func TestNetemInVM(t *testing.T) {
//		testutil.Slow(t)
//		vmtest.Run(t, vmtest.Options{Run: "^TestNetem", Modules: vmtest.NetworkModules})
//	}
//
//	func TestNetemDelay(t *testing.T) {
//		if !vmtest.InVM() {
//			t.Skip("runs inside the VM (TestNetemInVM)")
//		}
//		... // root in a fresh VM: netem, ifb, nf_tables are there
//	}
//
// Run boots qemu-system-x86_64 with software emulation (-cpu max -smp 2
// -m 1G, no KVM) and an initramfs made of two concatenated cpio archives:
//
//   - a base archive cached under os.UserCacheDir()/bulwark-vmtest, keyed by
//     kernel version, module list and busybox: a static busybox with its applet
//     links, /init (a fixed busybox sh script), a minimal /etc and the
//     requested modules with their modules.dep and softdep dependencies;
//   - a per-run archive: the running test binary (os.Executable()), its ELF
//     interpreter and DT_NEEDED libraries (a -race binary is dynamically
//     linked), and the run's arguments, environment and marker as plain
//     files that /init reads line by line (never as shell code).
//
// /init mounts /proc, /sys, devtmpfs, tmpfs on /tmp and /run, cgroup2 on
// /sys/fs/cgroup, brings lo up, loads the modules, runs the test binary with
// -test.run Options.Run -test.v -test.count=1 -test.timeout and
// BULWARK_IN_VM=1 (plus CI from the host) in a directory of the same path as
// the host's working directory (empty: testdata is not copied), prints a
// marker line with the exit status and powers off. Everything on the serial
// console is streamed into t.Log with the prefix "vm| ". The caller fails when
// the tests inside fail, a module does not load, the pattern matches no test,
// or the marker never comes (boot failure or timeout, after which qemu is
// killed); it is skipped when every test inside skipped.
//
// Inside the VM, Loop attaches a loop device over a tmpfs file (pass
// LoopModules) and DelegateControllers enables cgroup v2 controllers in
// the root's cgroup.subtree_control, for the tests of cgroup v2 paths: the
// VM's /init mounts only cgroup2, a unified host. Both refuse outside it.
//
// testutil.Sandbox works inside the VM (the binary runs as root with /proc,
// /sys, cgroup2 and a tmpfs /tmp), so sandboxed tests can run there as they are.
//
// # Where the parts come from
//
// Available reports what is missing. The kernel is the newest
// boot/vmlinuz-VERSION with a lib/modules/VERSION/modules.dep under
// $BULWARK_VM_KERNEL_DIR (an unpacked .deb, "dpkg -x") or under /; busybox
// is $BULWARK_VM_BUSYBOX or Debian's busybox-static; qemu is
// $BULWARK_VM_QEMU or qemu-system-x86_64 on PATH. Without them Run skips
// the test, or fails it when CI=true.
package vmtest
