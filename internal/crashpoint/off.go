//go:build !failpoints

package crashpoint

// Enabled reports whether this binary was built with crash points.
const Enabled = false

// Hit does nothing in a production build.
func Hit(string) {}
