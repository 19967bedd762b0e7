// Package agentgw is the server side of the agent protocol: the gRPC
// service agents enrol with and hold their one Session stream on, the
// registry of connected agents, and the API the server calls to select
// agents, set their desired fault sets, wait for faults to be active, and
// halt (DESIGN §4.1).
//
// Invariants:
//   - Enrol is the only RPC that accepts a join token; Renew and Session
//     require a client certificate verified against the CA whose URI SAN
//     names a known, unrevoked agent.
//   - Every change to an agent's desired set gets a new, higher epoch; the
//     whole set is sent, never a delta, so resending is idempotent.
//   - Reserved labels (env, system, unit, zone) come from the inventory (or
//     the join token's scope), never from the agent.
//   - Halt sends first and persists after: it works while the store is
//     unavailable. Desired sets are written to the store in coalesced
//     batches, so a restarted server resends them on reconnect.
package agentgw
