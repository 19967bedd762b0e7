//go:build linux

package dep

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Reset methods reported by --reset-existing.
const (
	resetSockDestroy = "sock_destroy"
	resetConntrack   = "conntrack"
	resetUnavailable = "unavailable"
)

// resetExisting resets this host's existing TCP connections to the target:
// every local socket whose remote end is one of the target's addresses and
// port is destroyed through inet_diag SOCK_DESTROY (the kernel sends RST and
// the owner's next call fails with ECONNABORTED). Where the kernel lacks
// SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY), the target's conntrack entries
// are deleted instead: the next packet of such a flow is picked up as new,
// meets the redirect and is answered with a reset. Forwarded flows are
// covered only by the conntrack path.
func resetExisting(addrs []netip.Addr, port uint16) *ResetReport {
	n, err := destroySockets(addrs, port)
	if err == nil {
		return &ResetReport{Method: resetSockDestroy, Count: n}
	}
	why := err.Error()
	if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.EPROTONOSUPPORT) && !errors.Is(err, unix.EINVAL) {
		return &ResetReport{Method: resetUnavailable, Count: n, Note: why}
	}
	c, err := deleteConntrack(addrs, port)
	if err != nil {
		return &ResetReport{Method: resetUnavailable, Note: fmt.Sprintf("socket destroy: %s; conntrack: %v", why, err)}
	}
	return &ResetReport{Method: resetConntrack, Count: c, Note: "socket destroy unavailable: " + why}
}

// countExisting counts this host's TCP connections to the target (both
// families); -1 when the kernel cannot list them.
func countExisting(addrs []netip.Addr, port uint16) int {
	fd, err := openSockDiag()
	if err != nil {
		return -1
	}
	defer unix.Close(fd)
	n := 0
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		ids, err := dump(fd, fam, addrs, port)
		if err != nil {
			return -1
		}
		n += len(ids)
	}
	return n
}

// sockID is struct inet_diag_sockid.
type sockID struct {
	sport, dport [2]byte
	src, dst     [16]byte
	iface        uint32
	cookie       [8]byte
}

const (
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	sockDestroy      = 21 // SOCK_DESTROY
	reqLen           = 56 // sizeof(struct inet_diag_req_v2)
	diagMsgLen       = 72 // sizeof(struct inet_diag_msg)
	tcpListen        = 10 // TCP_LISTEN
	allStates        = 0xfff
)

func (id sockID) put(b []byte) {
	copy(b[0:2], id.sport[:])
	copy(b[2:4], id.dport[:])
	copy(b[4:20], id.src[:])
	copy(b[20:36], id.dst[:])
	binary.NativeEndian.PutUint32(b[36:40], id.iface)
	copy(b[40:48], id.cookie[:])
}

func parseSockID(b []byte) sockID {
	var id sockID
	copy(id.sport[:], b[0:2])
	copy(id.dport[:], b[2:4])
	copy(id.src[:], b[4:20])
	copy(id.dst[:], b[20:36])
	id.iface = binary.NativeEndian.Uint32(b[36:40])
	copy(id.cookie[:], b[40:48])
	return id
}

// request builds an inet_diag_req_v2 netlink message.
func request(typ uint16, flags uint16, family uint8, id sockID) []byte {
	b := make([]byte, unix.NLMSG_HDRLEN+reqLen)
	binary.NativeEndian.PutUint32(b[0:4], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:6], typ)
	binary.NativeEndian.PutUint16(b[6:8], flags|unix.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(b[8:12], 1)
	r := b[unix.NLMSG_HDRLEN:]
	r[0], r[1] = family, unix.IPPROTO_TCP
	binary.NativeEndian.PutUint32(r[4:8], allStates)
	id.put(r[8:56])
	return b
}

// openSockDiag opens and binds a NETLINK_SOCK_DIAG socket in the calling
// thread's network namespace.
func openSockDiag() (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return -1, fmt.Errorf("open sock_diag socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("bind sock_diag socket: %w", err)
	}
	return fd, nil
}

// destroySockets dumps TCP sockets of both families and destroys those
// connected to the target. It returns how many it destroyed.
func destroySockets(addrs []netip.Addr, port uint16) (int, error) {
	fd, err := openSockDiag()
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	n := 0
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		ids, err := dump(fd, fam, addrs, port)
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			if err := roundTrip(fd, request(sockDestroy, unix.NLM_F_ACK, fam, id), nil); err != nil {
				if errors.Is(err, unix.ENOENT) {
					continue // closed meanwhile
				}
				return n, fmt.Errorf("destroy socket: %w", err)
			}
			n++
		}
	}
	return n, nil
}

// dump lists the non-listening TCP sockets of family fam whose remote end is
// one of addrs at port.
func dump(fd int, fam uint8, addrs []netip.Addr, port uint16) ([]sockID, error) {
	var ids []sockID
	err := roundTrip(fd, request(sockDiagByFamily, unix.NLM_F_DUMP, fam, sockID{cookie: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}), func(m []byte) {
		if len(m) < diagMsgLen || m[1] == tcpListen {
			return
		}
		id := parseSockID(m[4:52])
		if binary.BigEndian.Uint16(id.dport[:]) != port {
			return
		}
		var dst netip.Addr
		if fam == unix.AF_INET {
			dst = netip.AddrFrom4([4]byte(id.dst[:4]))
		} else {
			dst = netip.AddrFrom16(id.dst).Unmap()
		}
		if slices.Contains(addrs, dst) {
			ids = append(ids, id)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("dump sockets: %w", err)
	}
	return ids, nil
}

// roundTrip sends one request and reads replies until NLMSG_DONE or the
// acknowledgement, passing each data message's payload to each.
func roundTrip(fd int, req []byte, each func([]byte)) error {
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if len(m.Data) < 4 {
					return errors.New("short netlink error")
				}
				if code := int32(binary.NativeEndian.Uint32(m.Data[:4])); code != 0 {
					return syscall.Errno(-code)
				}
				return nil
			default:
				if each != nil {
					each(m.Data)
				}
			}
		}
	}
}

// deleteConntrack deletes the conntrack entries of TCP flows to the target.
func deleteConntrack(addrs []netip.Addr, port uint16) (int, error) {
	total := 0
	for _, a := range addrs {
		f := &netlink.ConntrackFilter{}
		if err := f.AddIP(netlink.ConntrackOrigDstIP, net.IP(a.AsSlice())); err != nil {
			return total, err
		}
		if err := f.AddProtocol(unix.IPPROTO_TCP); err != nil {
			return total, err
		}
		if err := f.AddPort(netlink.ConntrackOrigDstPort, port); err != nil {
			return total, err
		}
		fam := netlink.InetFamily(unix.AF_INET)
		if a.Is6() {
			fam = unix.AF_INET6
		}
		n, err := netlink.ConntrackDeleteFilters(netlink.ConntrackTable, fam, f)
		total += int(n)
		if err != nil {
			return total, fmt.Errorf("delete conntrack entries: %w", err)
		}
	}
	return total, nil
}
