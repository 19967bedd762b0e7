package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
	"github.com/bulwarkhq/bulwark/internal/pki"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

// runServer is the parent: the gateway, the measures, and the child.
func runServer(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "agentscale")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ca, err := pki.LoadOrCreate(filepath.Join(dir, "ca"))
	if err != nil {
		return err
	}
	db := sqlite.NewDB(filepath.Join(dir, "bulwark.db"))
	if err := db.Open(ctx); err != nil {
		return err
	}
	defer db.Close()
	gw, lis, err := startGateway(ctx, db, ca, "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := lis.Addr().String()
	token, _, err := gw.CreateJoinToken(ctx, agentgw.JoinTokenRequest{Environment: "simulation", TTL: time.Hour})
	if err != nil {
		return err
	}
	base := memory()
	child, err := startChild(o, addr, filepath.Join(dir, "ca", "ca.crt"), token)
	if err != nil {
		return err
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()

	t0 := time.Now()
	if err := waitConnected(gw, o.n, 10*time.Minute); err != nil {
		return err
	}
	fmt.Printf("| %d agents enrolled and connected | %s |\n", o.n, time.Since(t0).Round(time.Millisecond))
	held := memory()
	fmt.Printf("| server heap in use, idle / with agents | %.1f MiB / %.1f MiB |\n", mib(base.heap), mib(held.heap))
	fmt.Printf("| server RSS, idle / with agents | %.1f MiB / %.1f MiB |\n", mib(base.rss), mib(held.rss))
	fmt.Printf("| server memory per agent (heap, RSS) | %.1f KiB, %.1f KiB |\n",
		float64(held.heap-base.heap)/1024/float64(o.n), float64(held.rss-base.rss)/1024/float64(o.n))
	fmt.Printf("| server goroutines per agent | %.1f |\n", float64(held.goroutines-base.goroutines)/float64(o.n))

	if err := fanOut(ctx, gw, min(o.fanout, o.n)); err != nil {
		return err
	}
	stopProfile, err := startProfiles(o.haltProfile)
	if err != nil {
		return err
	}
	t0 = time.Now()
	res := gw.Halt(ctx, nil)
	haltTook := time.Since(t0)
	if err := stopProfile(); err != nil {
		return err
	}
	fmt.Printf("| halt across %d agents (all confirmed: %d, not answered: %d) | %s |\n",
		len(res.Recovered)+len(res.NotAnswered), len(res.Recovered), len(res.NotAnswered), haltTook.Round(time.Millisecond))
	if !o.storm {
		return nil
	}

	// Reconnect storm: the server restarts on the same database and address.
	if err := gw.Close(); err != nil {
		return err
	}
	t0 = time.Now()
	gw, _, err = startGateway(ctx, db, ca, addr)
	if err != nil {
		return err
	}
	defer gw.Close()
	if err := waitConnected(gw, o.n, 10*time.Minute); err != nil {
		return err
	}
	fmt.Printf("| reconnect storm after a restart: all %d back | %s |\n", o.n, time.Since(t0).Round(time.Millisecond))
	return nil
}

func startGateway(ctx context.Context, db *sqlite.DB, ca *pki.CA, addr string) (*agentgw.Gateway, net.Listener, error) {
	gw, err := agentgw.New(ctx, agentgw.Config{Store: sqlite.NewAgentStore(db), CA: ca, Lease: 60 * time.Second, HaltTimeout: time.Minute})
	if err != nil {
		return nil, nil, err
	}
	var lis net.Listener
	for range 100 {
		if lis, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return nil, nil, err
	}
	go func() { _ = gw.Serve(lis) }()
	return gw, lis, nil
}

func startChild(o options, addr, caFile, token string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-child", "-n", strconv.Itoa(o.n), "-addr", addr, "-ca", caFile, "-token", token,
		"-heartbeat", o.heartbeat.String(), "-parallel", strconv.Itoa(o.parallel))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd, cmd.Start()
}

func waitConnected(gw *agentgw.Gateway, n int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		_, got := gw.Count()
		if got >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d agents connected after %s", got, n, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fanOut adds one fault to each of n agents chosen by count:n and waits
// until all report it active.
func fanOut(ctx context.Context, gw *agentgw.Gateway, n int) error {
	sel, err := gw.SelectSeeded(bulwark.Selector{Labels: map[string]string{"env": "simulation"}, Mode: bulwark.SelectMode(fmt.Sprintf("count:%d", n))}, 1)
	if err != nil {
		return err
	}
	t0 := time.Now()
	ids := make([]string, 0, n)
	for _, a := range sel.Agents {
		f := agentstore.DesiredFault{ID: bulwark.NewID(), Kind: "process.hang", Params: map[string]string{"pid": "4242"}, Duration: bulwark.Duration(time.Minute)}
		if _, err := gw.AddFaults(ctx, a.ID, f); err != nil {
			return err
		}
		ids = append(ids, f.ID)
	}
	sent := time.Since(t0)
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := gw.WaitActive(wctx, ids...); err != nil {
		return err
	}
	fmt.Printf("| fault fanned out to %d agents, all active (sent after %s) | %s |\n", n, sent.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
	return nil
}

// startProfiles starts a CPU profile and mutex and block profiling when
// prefix is set; the returned function writes them.
func startProfiles(prefix string) (func() error, error) {
	if prefix == "" {
		return func() error { return nil }, nil
	}
	cpu, err := os.Create(prefix + ".cpu.pprof")
	if err != nil {
		return nil, err
	}
	runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(int(10 * time.Microsecond))
	if err := pprof.StartCPUProfile(cpu); err != nil {
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		runtime.SetMutexProfileFraction(0)
		runtime.SetBlockProfileRate(0)
		if err := cpu.Close(); err != nil {
			return err
		}
		for _, name := range []string{"mutex", "block"} {
			f, err := os.Create(prefix + "." + name + ".pprof")
			if err != nil {
				return err
			}
			if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

type mem struct {
	heap, rss  uint64
	goroutines int
}

func memory() mem {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return mem{heap: ms.HeapInuse, rss: rss(), goroutines: runtime.NumGoroutine()}
}

// rss reads VmRSS from /proc/self/status (0 where there is none).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
