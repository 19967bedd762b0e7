// Package pki is the control plane's small certificate authority: one ECDSA
// P-256 CA kept in the server's data directory (ca.key 0600), a server
// certificate for the gateway's listen names, and short-lived agent client
// certificates bound to a hostname (SAN DNS) and an inventory id (SAN URI
// bulwark://agent/<id>), with the mTLS configurations both ends use.
//
// Invariants:
//   - The CA key never leaves the data directory and is written 0600.
//   - An agent certificate names exactly one agent: AgentID reads the id
//     back from the URI SAN; a certificate without one is not an agent's.
//   - Verification is the standard library's (crypto/tls, crypto/x509); this
//     package only chooses the parameters.
package pki
