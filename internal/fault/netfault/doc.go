// Package netfault holds the network fault kinds and the network engine
// they share.
//
// # Cutting: net.partition, net.loss (nftables), ntp.block
//
// net.partition drops or rejects traffic to or from chosen addresses, ports
// and protocols by nftables rules in a table of the fault's own. Each fault
// owns exactly one table, family inet, named after its id (bulwark_<32 hex
// digits>), with a base chain on the output hook (egress) and/or the input
// hook (ingress) at filter priority. Faults therefore compose: several may
// be active in one namespace, and each is recovered alone by deleting its
// table, which never touches anyone else's tables.
//
// Inside each chain the management plane (DESIGN §6.10, fault.Host.Management)
// is accepted before any fault rule: TCP source and destination ports in
// Management.TCPPorts and remote addresses in Management.Networks. Only what
// is configured is excluded.
//
// The matched addresses live in interval sets whose elements carry
// kernel-side timeouts of the fault's duration plus a small slack (DESIGN
// §4.1.1), so the rules go inert at expiry even if no bulwark process is
// left; the sweep then deletes the table. Where a kernel refuses timeouts on
// interval sets the fault falls back to elements without one and says so in
// its evidence.
//
// --destination takes addresses, CIDRs (multicast groups too: 224.0.0.0/4,
// ff00::/8) and host names, which are resolved once, at inject; the receipt
// keeps the addresses, and the evidence says what each name resolved to.
//
// # Shaping: net.delay, net.duplicate, net.corrupt, net.reorder, net.bandwidth, net.loss (netem)
//
// The shaping kinds act through the interface's qdisc tree, which package
// tc owns on behalf of every fault: the first fault on an interface saves
// the tree (fsynced, under the state directory) and replaces the root with
// Bulwark's htb b0b:, whose unclassified traffic takes htb's direct queue
// unshaped; each fault gets a class b0b:N of its own with a netem leaf (or,
// for bandwidth, the class's rate and ceiling over a pfifo); the last fault
// out restores the saved tree exactly (a default root by deleting Bulwark's;
// a tbf or htb tree by recreating it; a tree it cannot recreate — another
// qdisc kind, or any tc filter in it — makes the first fault refuse).
//
// Egress packets are put into a fault's class by the fault's own nftables
// table, built exactly as net.partition's but on the postrouting hook and
// with "meta oif <interface> meta priority set b0b:N" instead of a verdict:
// htb puts a packet whose skb->priority names one of its leaf classes into
// that class (TestPriorityClassifies proves it on the running kernel). This
// was chosen over tc filters because it reuses, unchanged, everything the
// cutting kinds already do right: IPv4 and IPv6, multicast, port ranges,
// the management plane's exclusions, one atomic batch, and the kernel-side
// element timeouts — an expired shaping fault goes inert (its packets fall
// back to the direct queue) even with no bulwark process alive, and the
// empty class waits harmlessly for the sweep. Two faults matching the same
// packet: the table that runs last sets the priority.
//
// What the takeover costs while a fault is active: a custom root someone
// set up (a tbf, an htb tree) is out of service until the last fault ends,
// because Bulwark's htb replaces it rather than grafting into it; and a
// multi-queue NIC's mq root becomes one htb with one lock, which a 25 Gbit/s
// link under full load will notice. Both are put back exactly afterwards.
// Ingress filters of someone else at a lower priority number than Bulwark's
// (1 and up) run first and may let packets past the fault.
//
// Ingress runs before netfilter, so there the fault adds u32 filters to the
// interface's ingress qdisc (created only if absent, and removed with the
// last bulwark filter; clsact's ingress hook is used when present) that
// redirect (mirred) its flow to an ifb device of its own, bwk<mark>, whose
// htb class holds the netem or the cap. The management plane is a u32 match
// without action at a higher priority (classification ends with "ok", so
// act_gact is not needed). u32 filters have no timeout: an ingress fault
// ends by the guard or the sweep, and says so.
//
// net.delay's --distribution normal, pareto and paretonormal use netem
// tables built here (standardised quantiles, as iproute2's are), sent as
// TCA_NETEM_DELAY_DIST in a request built with vishvananda/netlink's
// message types on a namespace-bound mdlayher/netlink socket: the library
// has no field for the table. The kernel does not dump the table, so the
// read-back checks netem's other parameters and the evidence says which
// distribution was sent.
//
// A fault is marked in every tree by its leaf qdisc's handle major, drawn at
// Prepare and recorded in the receipt before anything changes, so recovery
// from the receipt alone finds exactly its own class even if the process
// died before it learned the class number. Changes to one interface are
// serialised by an flock on its record, across processes.
//
// The netem kinds report themselves unavailable where the kernel cannot
// create a netem qdisc (probed in a scratch namespace, cached for a minute):
// they never half-work. net.loss uses netem (with --correlation) where it
// exists and the nftables random drop ("numgen random mod 10000 < N")
// otherwise, and always for --direction both; --mechanism forces either,
// and the evidence says which one drops and why.
//
// # Kernels without nftables (RHEL 7)
//
// Decided: probe and report. Every kind here that needs nf_tables says so in
// `bulwark fault kinds` where a netlink socket to nf_tables cannot be
// opened, instead of falling back to iptables-legacy: a second rule engine
// would double the surface that must restore exactly, and iptables has no
// per-element timeouts on its rules, so the kernel-side expiry would be
// lost. The ingress path (u32 + ifb) would work there, but shares the
// kinds' availability check.
//
// Kernel state is changed only through google/nftables (package nft) and
// vishvananda/netlink (package tc), on sockets bound to the namespace the
// fault was applied in; nothing shells out to nft or tc. The kinds build on
// Linux only; elsewhere they report themselves unsupported.
package netfault
