//go:build linux

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	_ "github.com/bulwarkhq/bulwark/internal/fault/all"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

// inProcess measures the same inject→active and recover→gone through the
// host manager inside this process: the journal fsyncs, Prepare, Apply,
// Verify's read-back, Recover and VerifyRecovered, without the cost of
// starting a process.
func inProcess(dir string, n int, kinds []kindArgs, base []time.Duration) error {
	ctx := context.Background()
	h := fault.DefaultHost(filepath.Join(dir, "state-inproc"))
	h.FileRoots = []string{dir}
	m, err := hostmgr.Open(ctx, hostmgr.Config{StateDir: h.StateDir, Host: h})
	if err != nil {
		return err
	}
	defer m.Close()
	for _, k := range kinds {
		params, err := flagsToParams(k.args)
		if err != nil {
			return err
		}
		var inj, rec []time.Duration
		for range n {
			start := time.Now()
			f, err := m.Inject(ctx, bulwark.FaultSpec{Kind: k.name, Params: params, Duration: bulwark.Duration(time.Minute)})
			inj = append(inj, time.Since(start))
			if err != nil {
				return fmt.Errorf("inject %s: %w", k.name, err)
			}
			start = time.Now()
			if _, err := m.Recover(ctx, f.ID); err != nil {
				return fmt.Errorf("recover %s: %w", k.name, err)
			}
			rec = append(rec, time.Since(start))
		}
		row(k.name+" inject (in-process)", inj, base)
		row(k.name+" recover (in-process)", rec, base)
	}
	return nil
}

func flagsToParams(args []string) (map[string]string, error) {
	p := map[string]string{}
	for i := 0; i+1 < len(args); i += 2 {
		if len(args[i]) < 3 || args[i][:2] != "--" {
			return nil, fmt.Errorf("bad flag %q", args[i])
		}
		p[args[i][2:]] = args[i+1]
	}
	return p, nil
}
