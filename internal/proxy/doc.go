// Package proxy is Bulwark's fault proxy: the engine behind the dependency
// faults slow (卡), hang (吊), dead (死) and error (错) — dep.slow, dep.hang,
// dep.down, dep.error, dep.truncate and dep.tls.
//
// A Proxy accepts TCP connections, resolves each one's upstream with a
// pluggable Resolver (a fixed address in explicit mode, SO_ORIGINAL_DST via
// OriginalDst in transparent mode) and relays bytes both ways. The active
// fault set is replaced at run time with SetFaults (or AddFault/RemoveFault)
// and takes effect on live connections as well as new ones.
//
// Invariants:
//
//   - Fast path. A connection no fault applies to is relayed with io.Copy
//     between the two *net.TCPConn, which splices on Linux: two goroutines
//     per connection, no user-space buffer, no goroutine per chunk.
//   - Switching. When the fault set changes, every live connection in the
//     fast path is poked (SetReadDeadline(now) on both sockets); the relay
//     catches the timeout, re-evaluates and continues in the fault path.
//     A connection in the fault path returns to the fast path at the next
//     unit boundary once no fault applies any more.
//   - Framing. In the fault path each direction is cut into units by a
//     Framer (raw chunks, length-prefixed, delimited, HTTP/1.1, HTTP/2 incl.
//     gRPC), so per-connection, per-chunk and per-request faults share one
//     mechanism. Protocol-aware framing is chosen only for a connection that
//     has carried no bytes yet; a connection already in flight is framed raw.
//   - Buffers are bounded: a framed direction owns one bufio.Reader of
//     Config.BufferSize, held data is capped, and nothing is buffered in the
//     fast path.
//   - Ownership. Serve owns the accept loop; each connection goroutine owns
//     its second relay goroutine and waits for it. Close and Shutdown stop
//     the accept loop and wait for every goroutine the proxy started.
//   - Upstream dials run in the connection goroutine with Config.DialTimeout,
//     never in the accept loop, and upstream sockets carry Config.Mark
//     (SO_MARK) so a transparent redirect can exclude them.
package proxy
