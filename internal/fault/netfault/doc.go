// Package netfault holds the network fault kinds. Among them net.partition:
// traffic to or from chosen addresses, ports and protocols is dropped or
// rejected by nftables rules in a table of the fault's own; and net.loss,
// which matches the same way but drops only a share of the packets, by an
// nftables rule that draws a random number for each one ("numgen random mod
// 10000 < N drop"). net.loss records whether the kernel has netem (probed by
// creating a netem qdisc on lo in a scratch network namespace) and says in its
// evidence that it drops through nftables either way: the netem qdisc engine
// is the network engine's to build.
//
// Each fault owns exactly one table, family inet, named after its id
// (bulwark_<32 hex digits>), with a base chain on the output hook (egress)
// and/or the input hook (ingress) at filter priority. Faults therefore
// compose: several may be active in one namespace, and each is recovered
// alone by deleting its table, which never touches anyone else's tables.
//
// Inside each chain the management plane (DESIGN §6.10, fault.Host.Management)
// is accepted before any fault rule: TCP source and destination ports in
// Management.TCPPorts and remote addresses in Management.Networks. Only what
// is configured is excluded.
//
// The cut addresses live in interval sets whose elements carry kernel-side
// timeouts of the fault's duration plus a small slack (DESIGN §4.1.1), so the
// rules go inert at expiry even if no bulwark process is left; the sweep then
// deletes the table. Where a kernel refuses timeouts on interval sets the
// fault falls back to elements without one and says so in its evidence.
//
// Kernel state is changed only through google/nftables (package nft), on a
// netlink socket bound to the namespace the fault was applied in. The kinds
// build on Linux only; elsewhere they report themselves unsupported.
package netfault
