// Package server is `bulwark server`: the REST API under /api/v1 (DESIGN
// §4.2, §5), its OpenAPI document, /metrics, and the wiring of the control
// plane's parts — authentication and scoped roles (internal/auth), the one
// policy gate (internal/policy), the audit log (internal/audit), the agent
// gateway (internal/agentgw), the inventory and halt.
//
// Every path that can change a host goes through (*Server).gate, which asks
// the policy gate, audits the decision and refuses while a halt covers the
// request. Halt acts first and audits after (DESIGN §6.3).
package server
