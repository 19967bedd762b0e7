//go:build !linux

package proxy

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
)

// errNoOriginalDst is returned where SO_ORIGINAL_DST does not exist.
var errNoOriginalDst = errors.New("original destination: not supported on this platform")

// OriginalDst is only available on Linux; elsewhere it always fails.
func OriginalDst(*net.TCPConn) (netip.AddrPort, error) {
	return netip.AddrPort{}, errNoOriginalDst
}

// markControl ignores the mark where SO_MARK does not exist.
func markControl(int) func(network, address string, c syscall.RawConn) error { return nil }
