//go:build linux

package dep_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// probeFunc asks the dependency once, as its own client would, with the
// given client timeout, and returns what it answered.
type probeFunc func(timeout time.Duration) (reply string, took time.Duration, err error)

// fourFaults runs slow, error (raw corruption), down and hang against a
// non-HTTP dependency and checks recovery after each, as TestHTTP does.
func fourFaults(t *testing.T, h *fault.Host, m *hostmgr.Manager, target, want string, probe probeFunc) {
	reply, base, err := probe(5 * time.Second)
	if err != nil || reply != want {
		t.Fatalf("direct: %q, %v; want %q", reply, err, want)
	}
	// PostgreSQL's own workers come and go; they are not residue.
	before := testutil.Snapshot(t, testutil.SnapshotOptions{ProcRoot: h.ProcRoot, IgnoreProcess: func(p testutil.Proc) bool { return p.Comm == "postgres" }})
	healthy := func(t *testing.T) {
		t.Helper()
		if reply, took, err := probe(5 * time.Second); err != nil || reply != want {
			t.Errorf("after recover: %q in %s, %v", reply, took, err)
		}
		waitNoHelpers(t, h, 5*time.Second)
		testutil.AssertUnchanged(t, before)
	}
	t.Run("slow", func(t *testing.T) {
		f := inject(t, m, "dep.slow", map[string]string{"target": target, "delay": "300ms"})
		reply, took, err := probe(5 * time.Second)
		if err != nil || reply != want || took < 300*time.Millisecond {
			t.Errorf("through dep.slow: %q in %s (direct %s), %v", reply, took, base, err)
		}
		t.Logf("dep.slow 300ms: %s (direct %s)", took, base)
		recoverFault(t, m, f)
		healthy(t)
	})
	t.Run("error", func(t *testing.T) {
		f := inject(t, m, "dep.error", map[string]string{"target": target, "corrupt": "true", "framing": "raw", "per": "chunk"})
		if reply, _, err := probe(3 * time.Second); err == nil && reply == want {
			t.Errorf("through dep.error --corrupt: %q, %v; want a corrupted answer or an error", reply, err)
		} else {
			t.Logf("through dep.error --corrupt: %+q, %v", reply, err)
		}
		recoverFault(t, m, f)
		healthy(t)
	})
	t.Run("down", func(t *testing.T) {
		f := inject(t, m, "dep.down", map[string]string{"target": target})
		if reply, _, err := probe(3 * time.Second); err == nil {
			t.Errorf("through dep.down: %q; want an error", reply)
		} else {
			t.Logf("through dep.down: %v", err)
		}
		recoverFault(t, m, f)
		healthy(t)
	})
	t.Run("hang", func(t *testing.T) {
		f := inject(t, m, "dep.hang", map[string]string{"target": target})
		reply, took, err := probe(2 * time.Second)
		if err == nil || took < 2*time.Second {
			t.Errorf("through dep.hang: %q in %s, %v; want the client's 2s timeout", reply, took, err)
		} else {
			t.Logf("through dep.hang: timed out after %s: %v", took, err)
		}
		recoverFault(t, m, f)
		healthy(t)
	})
}

// run runs a client command with a hard limit and returns its trimmed output.
func run(timeout time.Duration, name string, args ...string) (string, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+3*time.Second)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = "/" // the test's directory may be hidden by the sandbox's tmpfs on /tmp
	cmd.Env = append(os.Environ(), fmt.Sprintf("PGCONNECT_TIMEOUT=%d", int(timeout.Seconds())))
	out, err := cmd.CombinedOutput()
	s := strings.TrimSpace(string(out))
	if err != nil {
		return s, time.Since(start), fmt.Errorf("%s: %w: %s", name, err, s)
	}
	return s, time.Since(start), nil
}

// TestRedis runs the four faults against redis-server driven by redis-cli
// (slow, error, down) and by a RESP client with a 2 s timeout (hang:
// redis-cli has no read timeout), or against a small RESP server in Go when
// redis is not installed.
func TestRedis(t *testing.T) {
	h, ok := sandbox(t)
	if !ok {
		return
	}
	const target = "127.0.0.1:6390"
	server, _ := exec.LookPath("redis-server")
	cliPath, _ := exec.LookPath("redis-cli")
	if server != "" {
		cmd := exec.Command(server, "--port", "6390", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		t.Logf("upstream: %s", server)
	} else {
		serveRESP(t, target)
		t.Log("upstream: a RESP server in Go (redis-server is not installed)")
	}
	for end := time.Now().Add(5 * time.Second); ; {
		if r, _, err := redisPing(target, time.Second); err == nil && r == "+PONG" {
			break
		}
		if time.Now().After(end) {
			t.Fatal("redis did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	m := openManager(t, h)
	fourFaults(t, h, m, target, "PONG", func(timeout time.Duration) (string, time.Duration, error) {
		if cliPath == "" || timeout <= 2*time.Second {
			r, took, err := redisPing(target, timeout)
			return strings.TrimPrefix(r, "+"), took, err
		}
		return run(timeout, cliPath, "-h", "127.0.0.1", "-p", "6390", "PING")
	})
}

// TestPostgres runs the four faults against a throwaway PostgreSQL cluster
// (initdb + pg_ctl on a free port in a temporary directory, as user
// postgres) driven by psql with PGCONNECT_TIMEOUT.
func TestPostgres(t *testing.T) {
	h, ok := sandbox(t)
	if !ok {
		return
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	psql, _ := exec.LookPath("psql")
	if len(bins) == 0 || psql == "" {
		t.Skip("no PostgreSQL binaries (initdb, psql)")
	}
	bin := filepath.Dir(bins[len(bins)-1])
	const port = "55432"
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	pg, err := user.Lookup("postgres")
	if err != nil {
		t.Skip("no postgres user to run the throwaway cluster as")
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	dir, err := os.MkdirTemp("/tmp", "pg") // the sandbox's tmpfs; t.TempDir's parents are 0700
	must(err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	must(os.Chmod(dir, 0o755))
	must(os.Chown(dir, uid, gid))
	data := filepath.Join(dir, "data")
	must(os.Mkdir(data, 0o700))
	must(os.Chown(data, uid, gid))
	asPostgres := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Dir = dir
		return cmd
	}
	if out, err := asPostgres("initdb", "-D", data, "-U", "postgres", "--auth=trust").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	opts := "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off"
	if out, err := asPostgres("pg_ctl", "-D", data, "-o", opts, "-w", "-l", filepath.Join(dir, "log"), "start").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = asPostgres("pg_ctl", "-D", data, "-m", "immediate", "stop").Run() })
	m := openManager(t, h)
	fourFaults(t, h, m, "127.0.0.1:"+port, "1", func(timeout time.Duration) (string, time.Duration, error) {
		return run(timeout, psql, "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "postgres", "-tAc", "select 1")
	})
}
