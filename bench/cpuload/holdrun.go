//go:build linux

package main

import (
	"context"
	"fmt"
	"os/exec"
	"time"
)

// holdPhases is the background load (percent of the held CPU) in each phase
// of the hold run: none, some, more than the target, some, none.
var holdPhases = []float64{0, 30, 80, 20, 0}

// phase is one phase's measurement.
type phase struct {
	bg, usage, own float64
}

// holdRun holds one CPU at o.hold percent while a background burner comes
// and goes, and does the same with stress-ng for comparison.
func (b *bench) holdRun(ctx context.Context, o options) error {
	per := time.Duration(o.holdPhase) * time.Second
	total := time.Duration(len(holdPhases))*per + 10*time.Second
	f, pid, cpuN, err := b.inject(ctx, map[string]string{"percent": fmt.Sprint(o.hold), "mode": "hold"}, total)
	if err != nil {
		return err
	}
	bw, err := b.phases(ctx, cpuN, per, func() []int { return []int{pid} })
	_ = b.recover(ctx, f)
	if err != nil {
		return err
	}
	var sw []phase
	if b.stress != "" {
		cmd, err := b.startStress(o.hold, cpuN, total)
		if err != nil {
			return err
		}
		sw, err = b.phases(ctx, cpuN, per, func() []int { return tree(cmd.Process.Pid) })
		stopGroup(cmd)
		if err != nil {
			return err
		}
	}
	fmt.Printf("Hold: cpu%d at %g %% while a background burner comes and goes (%d s phases, last %d s measured, /proc/stat)\n", cpuN, o.hold, o.holdPhase, o.holdPhase-1)
	fmt.Printf("%-10s | %-38s | %-38s\n", "background", "bulwark --mode hold", "stress-ng --cpu-load (adds only)")
	fmt.Printf("%-10s | %7s %7s %7s %6s %7s | %7s %7s %7s %6s %7s\n", "%", "other", "expect", "usage", "err", "own", "other", "expect", "usage", "err", "own")
	for i, p := range bw {
		row := fmt.Sprintf("%-10g | %s", p.bg, p.cells(o.hold))
		if sw != nil {
			row += " | " + sw[i].cells(o.hold)
		}
		fmt.Println(row)
	}
	fmt.Println("other = usage - own: the background burner plus load we did not start; expect = max(target, other); err = usage - expect")
	fmt.Println()
	return nil
}

// phases runs the background phases and measures the CPU's usage and the
// load's own CPU (schedstat) over the last part of each.
func (b *bench) phases(ctx context.Context, cpuN int, per time.Duration, pidsFn func() []int) ([]phase, error) {
	var out []phase
	for _, bg := range holdPhases {
		var burner *exec.Cmd
		if bg > 0 {
			var err error
			if burner, err = b.startBurner(bg, cpuN); err != nil {
				return nil, err
			}
		}
		err := sleepCtx(ctx, time.Second)
		own0, t0 := ownCPU(pidsFn), time.Now()
		core := newCoreMeter(cpuN)
		if err == nil {
			err = sleepCtx(ctx, per-time.Second)
		}
		p := phase{bg: bg, usage: core.usage(), own: float64(ownCPU(pidsFn)-own0) / float64(time.Since(t0)) * 100}
		if burner != nil {
			stopGroup(burner)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (p phase) cells(target float64) string {
	other := max(p.usage-p.own, 0)
	want := max(target, other)
	return fmt.Sprintf("%7.1f %7.1f %7.1f %+6.1f %7.1f", other, want, p.usage, p.usage-want, p.own)
}

func ownCPU(pidsFn func() []int) (d time.Duration) {
	for _, p := range pidsFn() {
		all, _, _ := schedCPU(p, "")
		d += all
	}
	return d
}
