// Package dep holds the dependency fault kinds — slow (卡), hang (吊), dead
// (死) and error (错) — dep.slow, dep.hang, dep.down, dep.error, dep.truncate
// and dep.tls, applied by the fault proxy (internal/proxy) to any TCP or
// HTTP dependency without reconfiguring its clients.
//
// Transparent mode (these kinds, Linux, root). Each fault runs its own
// helper process, `bulwark helper dep-proxy --fault ID --deadline T --spec
// FILE`, which serves a proxy.Proxy on a free port with
// Resolve = the original destination (SO_ORIGINAL_DST, accepted only for the
// fault's target) and SO_MARK Mark on its upstream sockets. The kind then
// installs a table of the fault's own, inet bulwark_dep_<id>, with nat
// chains on the output hook (this host's own traffic) and the prerouting
// hook (forwarded traffic):
//
//	ip daddr @dst4 tcp dport PORT meta mark != MARK counter redirect to :PROXY
//
// (and the same for IPv6). The sets' elements carry a kernel-side timeout
// (ElementTimeout, 5 s) that the live helper refreshes every second with a
// delete and an add in one atomic batch: if the helper dies, the elements
// expire and new connections go straight to the dependency again — a dead
// proxy never turns "slow" into "dead" (fail-open). The helper deletes the
// elements itself before it exits at its deadline.
//
// Connection semantics: only new connections are redirected (the rule
// matches a SYN and NAT binds at a connection's first packet, so a
// connection conntrack first meets mid-stream stays direct instead of being
// sent to a proxy that would reset it); the evidence counts the connections
// left direct. Every kind's --reset-existing resets existing
// direct connections (inet_diag SOCK_DESTROY, or conntrack deletion where
// the kernel lacks it; the receipt and evidence say which). Recover deletes
// the redirect's set elements first (new connections go direct), then sends
// the helper SIGTERM: it removes its fault and lets the connections it
// proxies drain through it, untouched, for up to Drain (30 s) and never past
// its deadline, then deletes the table. The table and its rule stay until
// then because deleting a redirect rule resets the connections it
// redirected. A second dep.* fault on the same target is refused.
//
// Explicit mode (`bulwark proxy`, every platform, no root): see README.md.
package dep
