//go:build !linux

package proxy

import (
	"io"
	"net"
)

// copyTCP is io.Copy where the Linux idle-aware splice is not available.
func copyTCP(dst, src *net.TCPConn) (int64, error) { return io.Copy(dst, src) }
