// Package all imports every fault kind of this platform for its side effect
// of registering it (as Caddy's modules/standard does). Only cmd/bulwark and
// tests import it; the registry stays the one list of kinds.
package all
