package agent

import (
	"fmt"
	"log/slog"
	"net"

	"golang.org/x/sys/unix"
)

// peerListener accepts only connections whose peer uid allow accepts,
// checked with SO_PEERCRED; others are closed at once.
type peerListener struct {
	net.Listener
	allow func(uid uint32) bool
	log   *slog.Logger
}

// Accept implements net.Listener.
func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(c)
		if err == nil && l.allow(uid) {
			return c, nil
		}
		l.log.Warn("agent.sock: connection refused", "uid", uid, "err", err)
		c.Close()
	}
}

// peerUID returns the uid of the process at the other end of a unix socket.
func peerUID(c net.Conn) (uint32, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return 0, fmt.Errorf("not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var serr error
	if err := raw.Control(func(fd uintptr) { cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, serr
	}
	return cred.Uid, nil
}
