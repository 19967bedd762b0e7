//go:build linux

// Command cpuload measures cpu.load (DESIGN §9, issue 2 item 10):
//
//   - accuracy at 25/50/75 % of one core, side by side with
//     `stress-ng --cpu 1 --cpu-load N` pinned to the same CPU when stress-ng
//     is installed, both measured by /proc/PID/stat CPU time deltas (and the
//     spread of 1-s windows by schedstat);
//   - --mode hold keeping a core at its target while a background burner
//     this program starts comes and goes, against stress-ng, which can only
//     add;
//   - inject→active, "CPU burn visible" and recover→gone latencies through
//     the host manager (journal fsync and Verify included), against a bare
//     fork+exec of /bin/true and stress-ng's own start.
//
// The program stands in for the bulwark binary: the kind re-executes it as
// `cpuload helper cpu-burn …`.
//
//	go run ./bench/cpuload [-seconds 10] [-levels 25,50,75] [-hold 60] [-runs 20]
//
// On a busy host the loads it measures may not get the CPU they ask for;
// the tables show the other load on the measured CPU. With -boost (root)
// the helper, stress-ng and the background burner each run in their own
// session whose autogroup nice is set to -19 (/proc/PID/autogroup), so that
// with CONFIG_SCHED_AUTOGROUP they win against other sessions' load, as they
// would on a quiet host.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/fault"
	_ "github.com/bulwarkhq/bulwark/internal/fault/cpu"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "helper" {
		os.Exit(runHelper(os.Args[2], os.Args[3:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "burn" {
		os.Exit(runBurn(os.Args[2:]))
	}
	var o options
	levels := flag.String("levels", "25,50,75", "accuracy levels, percent of one core (empty skips the accuracy run)")
	flag.IntVar(&o.seconds, "seconds", 10, "seconds measured per accuracy level")
	flag.Float64Var(&o.hold, "hold", 60, "hold target, percent of one core (0 skips the hold run)")
	flag.IntVar(&o.holdPhase, "hold-phase", 4, "seconds per background-load phase of the hold run")
	flag.IntVar(&o.runs, "runs", 20, "inject/recover cycles for the latency figures")
	flag.BoolVar(&boost, "boost", false, "raise the measured loads' autogroup priority (root; for busy hosts)")
	flag.Parse()
	for _, s := range strings.Split(*levels, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cpuload: bad -levels:", err)
			os.Exit(2)
		}
		o.levels = append(o.levels, v)
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "cpuload:", err)
		os.Exit(1)
	}
}

type options struct {
	levels    []float64
	seconds   int
	hold      float64
	holdPhase int
	runs      int
}

func runHelper(name string, args []string) int {
	fn, err := fault.LookupHelper(name)
	if err == nil {
		err = fn(context.Background(), args)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, o options) error {
	b, err := newBench(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	fmt.Printf("cpu.load benchmark: %d CPUs, load average %s, nice %d, stress-ng: %s\n", numCPU(), loadavg(), niceValue(), b.stressVersion())
	if boost {
		fmt.Printf("boost: measured loads run with autogroup nice -19\n\n")
	}
	if err := b.accuracy(ctx, o); err != nil {
		return err
	}
	if o.hold > 0 {
		if err := b.holdRun(ctx, o); err != nil {
			return err
		}
	}
	if o.runs > 0 {
		if err := b.latency(ctx, o.runs); err != nil {
			return err
		}
	}
	return nil
}
