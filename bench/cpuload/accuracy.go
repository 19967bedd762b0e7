//go:build linux

package main

import (
	"context"
	"fmt"
	"time"
)

// window is one accuracy measurement: the mean over the whole window from
// /proc/PID/stat, the 1-s windows from schedstat, and the other load on the
// CPU meanwhile.
type window struct {
	mean    float64
	seconds stats
	other   float64
}

// measure samples the CPU of the processes pidsFn returns for secs seconds.
func measure(ctx context.Context, pidsFn func() []int, cpuN, secs int, target float64) (window, error) {
	statSum := func() (d time.Duration) {
		for _, p := range pidsFn() {
			d += statCPU(p)
		}
		return d
	}
	schedSum := func() (d time.Duration) {
		for _, p := range pidsFn() {
			all, _, _ := schedCPU(p, "")
			d += all
		}
		return d
	}
	core := newCoreMeter(cpuN)
	t0, s0, prev, prevT := time.Now(), statSum(), schedSum(), time.Now()
	var per []float64
	for range secs {
		if err := sleepCtx(ctx, time.Second); err != nil {
			return window{}, err
		}
		now, c := time.Now(), schedSum()
		per = append(per, float64(c-prev)/float64(now.Sub(prevT))*100)
		prev, prevT = c, now
	}
	mean := float64(statSum()-s0) / float64(time.Since(t0)) * 100
	return window{mean: mean, seconds: summarise(per, target), other: max(core.usage()-mean, 0)}, nil
}

func (b *bench) accuracy(ctx context.Context, o options) error {
	if len(o.levels) == 0 {
		return nil
	}
	fmt.Printf("Accuracy, one core, %d s per level (mean from /proc/PID/stat utime+stime; 1-s windows from schedstat)\n", o.seconds)
	fmt.Printf("%-6s | %-40s | %-40s\n", "target", "bulwark cpu.load", "stress-ng --cpu 1 --cpu-load N")
	fmt.Printf("%-6s | %8s %6s %6s %8s %7s | %8s %6s %6s %8s %7s\n", "%", "mean", "err", "sd1s", "max|e|1s", "other", "mean", "err", "sd1s", "max|e|1s", "other")
	for _, lvl := range o.levels {
		bw, cpuN, err := b.accuracyBulwark(ctx, lvl, o.seconds)
		if err != nil {
			return err
		}
		row := fmt.Sprintf("%-6g | %s", lvl, cell(bw, lvl))
		if b.stress != "" {
			sw, err := b.accuracyStress(ctx, lvl, cpuN, o.seconds)
			if err != nil {
				return err
			}
			row += " | " + cell(sw, lvl)
		}
		fmt.Println(row)
	}
	fmt.Println("err = mean - target (points); other = the rest of that CPU's usage meanwhile (/proc/stat), load we did not start")
	fmt.Println()
	return nil
}

func cell(w window, target float64) string {
	return fmt.Sprintf("%8.2f %+6.2f %6.2f %8.2f %6.1f%%", w.mean, w.mean-target, w.seconds.sd, w.seconds.maxAbsErr, w.other)
}

func (b *bench) accuracyBulwark(ctx context.Context, lvl float64, secs int) (window, int, error) {
	f, pid, cpuN, err := b.inject(ctx, map[string]string{"percent": fmt.Sprint(lvl), "cores": "1"}, time.Duration(secs+5)*time.Second)
	if err != nil {
		return window{}, 0, err
	}
	defer b.recover(ctx, f)
	if err := sleepCtx(ctx, time.Second); err != nil {
		return window{}, 0, err
	}
	w, err := measure(ctx, func() []int { return []int{pid} }, cpuN, secs, lvl)
	return w, cpuN, err
}

func (b *bench) accuracyStress(ctx context.Context, lvl float64, cpuN, secs int) (window, error) {
	cmd, err := b.startStress(lvl, cpuN, time.Duration(secs+3)*time.Second)
	if err != nil {
		return window{}, err
	}
	defer stopGroup(cmd)
	if err := sleepCtx(ctx, time.Second); err != nil {
		return window{}, err
	}
	return measure(ctx, func() []int { return tree(cmd.Process.Pid) }, cpuN, secs, lvl)
}
