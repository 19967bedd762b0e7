// Package tc owns the egress qdisc tree of one interface on behalf of every
// Bulwark fault acting on it (DESIGN §5.1, §6): several faults compose on one
// interface, each recovers alone, and the last one out restores exactly the
// tree that was there before the first one came in.
//
// The first fault on an interface snapshots the root qdisc tree (qdiscs,
// classes, filters, as vishvananda/netlink objects) into a per-interface
// record under the state directory, written and fsynced before the kernel is
// touched, then replaces the root with Bulwark's htb (handle b0b:) whose
// default is htb's direct queue: an unclassified packet goes out unshaped, as
// before. Each fault gets a leaf class b0b:N (N from 2) with its own leaf
// qdisc: netem for delay, loss, duplication, corruption and reordering; the
// class's own rate and ceiling for bandwidth. Nothing in the tree decides
// which packets a class gets: the fault's nftables rule sets skb->priority
// to b0b:N on the packets it matches, and htb puts a packet whose priority
// names one of its leaf classes into that class. The packet filters are
// therefore nftables' (destination, ports, protocol, management plane,
// kernel-side expiry), not tc's.
//
// A tree the snapshot cannot recreate exactly — a qdisc kind other than
// tbf, htb or netem under a non-default root, or any tc filter in it — makes
// the first fault refuse with the reason instead of wiping it. A default
// root (handle 0: noqueue, mq, pfifo_fast, fq_codel as the kernel attached
// it) is restored by deleting Bulwark's root.
//
// Every change happens under an exclusive flock of the interface's record,
// so faults applied and recovered by different processes on one interface
// serialise. All netlink traffic goes through a handle bound to the fault's
// namespace file (netlink.NewHandleAt); nothing switches a thread's
// namespace and nothing shells out to tc.
//
// The package builds on Linux only.
package tc
