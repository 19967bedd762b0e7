package proxy

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOriginalDstWithoutRedirect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Without a redirect the original destination is the listener itself
	// when conntrack tracks loopback, and ENOENT when it does not.
	got, err := OriginalDst(s.(*net.TCPConn))
	if errors.Is(err, syscall.ENOENT) {
		t.Skip("no conntrack entry for loopback connections on this host")
	}
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != ln.Addr().String() {
		t.Fatalf("original destination %v, want %v", got, ln.Addr())
	}
	if _, err := OriginalDestination(s); err != nil {
		t.Fatal(err)
	}
}

func TestMarkControl(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SO_MARK needs CAP_NET_ADMIN")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := net.Dialer{Control: markControl(0x4b57)}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, _ := c.(*net.TCPConn).SyscallConn()
	var mark int
	var gerr error
	_ = rc.Control(func(fd uintptr) { mark, gerr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK) })
	if gerr != nil || mark != 0x4b57 {
		t.Fatalf("SO_MARK = %#x, %v; want 0x4b57", mark, gerr)
	}
	if markControl(0) != nil {
		t.Fatal("mark 0 should leave sockets alone")
	}
}
