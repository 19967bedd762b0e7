//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault/cpu"
)

// visibleBurn is how much CPU the burn must have used to count as visible.
const visibleBurn = time.Millisecond

// latency measures inject→active (Inject returning: journal fsync, spawn,
// pinning, first status, Verify's burn measurement, journal again), burn
// visible (the helper's pinned burn thread has used 1 ms of CPU, watched
// from outside through /proc) and recover→gone (Recover returning with
// VerifyRecovered done), all from the call's start.
func (b *bench) latency(ctx context.Context, runs int) error {
	var active, visible, gone, exe, stress []time.Duration
	for range runs {
		a, v, g, err := b.latencyOnce(ctx)
		if err != nil {
			return err
		}
		active, visible, gone = append(active, a), append(visible, v), append(gone, g)
		t0 := time.Now()
		if err := exec.Command("/bin/true").Run(); err != nil {
			return fmt.Errorf("run /bin/true: %w", err)
		}
		exe = append(exe, time.Since(t0))
		if b.stress != "" {
			s, err := b.stressVisible(ctx)
			if err != nil {
				return err
			}
			stress = append(stress, s)
		}
	}
	fmt.Printf("Latency, %d runs of --percent 50 --cores 1, from the call's start\n", runs)
	fmt.Printf("%-52s %9s %9s %9s\n", "", "median", "p90", "max")
	line := func(name string, ds []time.Duration) {
		if len(ds) == 0 {
			return
		}
		fmt.Printf("%-52s %9s %9s %9s\n", name, ms(percentile(ds, 50)), ms(percentile(ds, 90)), ms(percentile(ds, 100)))
	}
	line("bulwark inject → active (manager, fsync, Verify)", active)
	line("bulwark inject → CPU burn visible (1 ms burned)", visible)
	line("bulwark recover → gone (VerifyRecovered done)", gone)
	line("baseline: fork+exec+wait of /bin/true", exe)
	line("stress-ng --cpu 1 --cpu-load 50: start → 1 ms burned", stress)
	fmt.Println()
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/1e6) }

func (b *bench) latencyOnce(ctx context.Context) (active, visible, gone time.Duration, err error) {
	seen := map[int]bool{}
	for _, p := range pids() {
		seen[p] = true
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	t0 := time.Now()
	res := make(chan time.Duration, 1)
	go func() { res <- b.watchBurn(wctx, seen, t0) }()
	f, err := b.m.Inject(ctx, bulwark.FaultSpec{Kind: cpu.ID, Params: map[string]string{"percent": "50"}, Duration: bulwark.Duration(30 * time.Second)})
	if err != nil {
		return 0, 0, 0, err
	}
	active = time.Since(t0)
	visible = <-res
	t1 := time.Now()
	if err := b.recover(ctx, f); err != nil {
		return 0, 0, 0, err
	}
	gone = time.Since(t1)
	if visible == 0 {
		return 0, 0, 0, errors.New("burn never became visible")
	}
	return active, visible, gone, nil
}

// watchBurn polls /proc every 250 µs for a new helper of this program and
// returns when its burn thread has used visibleBurn of CPU.
func (b *bench) watchBurn(ctx context.Context, seen map[int]bool, t0 time.Time) time.Duration {
	pid := 0
	var base time.Duration
	based := false
	for ctx.Err() == nil {
		if pid == 0 {
			for _, p := range pids() {
				if seen[p] {
					continue
				}
				a := cmdline(p)
				if len(a) > 2 && a[0] == b.exe && a[1] == "helper" && a[2] == "cpu-burn" {
					pid = p
				}
				// A child between fork and exec shows this program's command
				// line, or none while exec swaps it: look at it again.
				seen[p] = a[0] != "" && a[0] != b.exe

			}
		}
		if pid != 0 {
			if _, burn, ok := schedCPU(pid, "cpu-burn/"); ok {
				if !based {
					base, based = burn, true
				}
				if burn-base >= visibleBurn {
					return time.Since(t0)
				}
			}
		}
		time.Sleep(250 * time.Microsecond)
	}
	return 0
}

// stressVisible starts stress-ng and returns when a worker has used
// visibleBurn of CPU.
func (b *bench) stressVisible(ctx context.Context) (time.Duration, error) {
	t0 := time.Now()
	cmd, err := b.startStress(50, 0, 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer stopGroup(cmd)
	for end := t0.Add(10 * time.Second); time.Now().Before(end) && ctx.Err() == nil; time.Sleep(250 * time.Microsecond) {
		for _, p := range tree(cmd.Process.Pid)[1:] {
			if all, _, _ := schedCPU(p, ""); all >= visibleBurn {
				return time.Since(t0), nil
			}
		}
	}
	return 0, errors.New("stress-ng burn never became visible")
}
