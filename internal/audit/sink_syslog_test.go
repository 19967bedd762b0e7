//go:build !windows && !plan9

package audit_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/audit"
)

// The syslog sink sends each checkpoint to a unix datagram socket that the
// test listens on, as a local syslog daemon would.
func TestSyslogSink(t *testing.T) {
	f := newFixture(t)
	sock := filepath.Join(f.dir, "log.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sink, err := audit.NewSyslogSink("unixgram", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	record(t, f.log(3, func(o *audit.Options) { o.Sinks = []audit.Sink{sink} }), 1, 3)

	buf := make([]byte, 4096)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(buf[:n])
	if !strings.HasPrefix(msg, "<85>") { // authpriv (10) * 8 + notice (5)
		t.Errorf("syslog priority: %q", msg)
	}
	_, js, ok := strings.Cut(msg, audit.SyslogPrefix)
	if !ok {
		t.Fatalf("message %q has no checkpoint", msg)
	}
	var c audit.Checkpoint
	if err := json.Unmarshal([]byte(strings.TrimSpace(js)), &c); err != nil {
		t.Fatal(err)
	}
	if c.Seq != 3 || c.VerifySignature(f.key.Public().(ed25519.PublicKey)) != nil {
		t.Fatalf("checkpoint from syslog %+v does not verify", c)
	}
	rep, err := audit.Verify(context.Background(), f.store, audit.VerifyOptions{
		PublicKey: f.key.Public().(ed25519.PublicKey), Checkpoints: []audit.Checkpoint{c},
	})
	if err != nil || !rep.OK || rep.Checkpoints != 2 {
		t.Fatalf("Verify with the syslog copy = %+v, %v", rep, err)
	}
}
