//go:build !linux

package agent

import (
	"log/slog"
	"net"
)

// peerListener has no peer credential check off Linux: the socket's 0600
// mode is the only guard there.
type peerListener struct {
	net.Listener
	allow func(uid uint32) bool
	log   *slog.Logger
}
