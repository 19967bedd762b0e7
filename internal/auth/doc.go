// Package auth authenticates people, automation accounts and their API
// tokens, and authorises what they do by scoped role bindings (DESIGN §11,
// issue 7 item 4). The server mounts (*Service).Routes and wraps its API in
// (*Service).Authenticate; other packages ask (*Authorizer).Allowed or
// HasRole.
//
// # Credentials
//
//   - Local users sign in with POST /auth/login {name, password, totp}: the
//     password is an argon2id hash, the TOTP code (RFC 6238, 30 s, 6 digits)
//     is accepted one step either side, and a code is never accepted twice:
//     the store keeps the newest accepted step and refuses any step not newer
//     (so a replayed code, or an older one, is refused). Failures are limited
//     per user name. A local user always needs TOTP: an admin creates the
//     user with POST /api/v1/users and hands over the enrolment secret and
//     otpauth URL shown once; the first accepted code confirms it.
//   - OIDC users sign in through /auth/oidc/login and /auth/oidc/callback
//     (authorization-code flow with state, nonce and PKCE S256). The user is
//     found by (issuer, subject) and provisioned on first login with its
//     name and email from the ID token's claims.
//   - Both end in a server session: a cookie holding 32 random bytes
//     (HttpOnly, SameSite=Lax, Secure over TLS); the store keeps only its
//     SHA-256 and expiry.
//   - API tokens are "bwk_" followed by 32 random bytes in unpadded
//     base64url, shown once and stored as SHA-256 only, with an expiry and
//     revocation. A token issued to a user authenticates as that user (with
//     Principal.TokenID set) and inherits the user's bindings. A token issued
//     to an automation account authenticates as the account.
//   - BULWARK_ADMIN_TOKEN bootstraps, idempotently, a user "admin" with a
//     global admin binding and that token (see Service.Bootstrap).
//
// # Roles
//
// Bindings are (subject, role, scope) with scope global, system, team (every
// system whose OwnerTeam is the team) or environment. A binding covers a
// Resource when its scope is global or names the resource's system, team
// (given, or the owner team of its system, looked up through Systems) or
// environment.
//
// For actions the roles are ordered viewer < operator < admin: a binding of a
// higher role satisfies a lower need. approver is apart from that order, on
// purpose: approving a production-class run is a separation-of-duties act,
// so admin does NOT imply approver (an admin who wants to approve must bind
// approver to themselves, which the audit log shows), and approver gives
// only what viewer gives besides approving (an approver must see what they
// approve). So:
//
//	need \ holds   viewer  operator  approver  admin
//	viewer           yes      yes       yes     yes
//	operator         -        yes       -       yes
//	approver         -        -         yes     -
//	admin            -        -         -       yes
//
// An automation account is allowed only what its own bindings allow AND what
// its owner is allowed at the time of the request: an account can never do
// more than its owner, also after the owner loses a binding. Creating an
// account with a role and scope its owner does not hold is EFORBIDDEN.
// Agents and the system principal are not authorised by bindings here.
package auth
