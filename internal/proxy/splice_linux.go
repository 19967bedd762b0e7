package proxy

import (
	"errors"
	"io"
	"net"

	"golang.org/x/sys/unix"
)

// copyTCP relays src to dst like io.Copy (splice on Linux), but waits for
// readability before each splice and splices only what is queued, so an
// idle connection holds no splice pipe: 10,000 idle connections cost two
// goroutines and four sockets each, not four more pipe descriptors.
// Read deadlines interrupt the wait as they do io.Copy.
func copyTCP(dst, src *net.TCPConn) (int64, error) {
	rc, err := src.SyscallConn()
	if err != nil {
		return 0, err
	}
	var total int64
	for {
		var avail int
		var serr error
		err := rc.Read(func(fd uintptr) bool {
			avail, serr = queued(int(fd))
			return !errors.Is(serr, unix.EAGAIN)
		})
		if err == nil {
			err = serr
		}
		if err != nil {
			return total, err
		}
		if avail == 0 {
			return total, nil // end of stream
		}
		n, err := io.Copy(dst, &io.LimitedReader{R: src, N: int64(avail)})
		total += n
		if err != nil {
			return total, err
		}
	}
}

// queued returns the bytes waiting on fd, 0 at end of stream, or EAGAIN
// when there is nothing yet.
func queued(fd int) (int, error) {
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	if err == nil && n > 0 {
		return n, nil
	}
	var b [1]byte
	m, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	switch {
	case err != nil:
		return 0, err
	case m == 0:
		return 0, nil
	default:
		return m, nil
	}
}
