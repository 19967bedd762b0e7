package script

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/probe"
)

// maxOutput bounds the output kept for hashing and error messages.
const maxOutput = 1 << 20

// run checks argv[0] against the receipt's pins and runs it with the
// receipt's timeout, a minimal environment and no stdin. It returns how
// the command ended (nil when it never started) and an error unless it
// exited 0.
func (d *scriptV1) run(ctx context.Context, phase string, argv []string) (*runV1, error) {
	list := probe.NewAllowList()
	for path, sum := range d.Pins {
		if err := list.Add(path, sum); err != nil {
			return nil, fmt.Errorf("pin %s: %w", path, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout.Std())
	defer cancel()
	cmd, cleanup, err := probe.CheckedCommand(ctx, list, argv)
	if err != nil {
		return nil, fmt.Errorf("check %s command: %w", phase, err)
	}
	defer cleanup()
	out := &capBuffer{max: maxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Dir = "/"
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
		"BULWARK_FAULT_ID=" + d.ID, "BULWARK_FAULT_PHASE=" + phase,
	}
	cmd.WaitDelay = time.Second
	start := time.Now()
	err = cmd.Run()
	res := &runV1{At: start.UTC(), Took: bulwark.Duration(time.Since(start)), Exit: -1}
	b := out.bytes()
	sum := sha256.Sum256(b)
	res.OutputBytes, res.OutputSHA256 = out.n, hex.EncodeToString(sum[:])
	if cmd.ProcessState != nil {
		res.Exit = cmd.ProcessState.ExitCode()
	}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("run %s command %s: killed after %v: %w", phase, argv[0], d.Timeout.Std(), ctx.Err())
	case err != nil && !errors.As(err, &exitErr):
		return res, fmt.Errorf("run %s command %s: %w", phase, argv[0], err)
	case res.Exit != 0:
		return res, fmt.Errorf("%s command %s exited %d: %s", phase, argv[0], res.Exit, tail(b, 512))
	}
	return res, nil
}

// capBuffer keeps the first max bytes written and counts them all.
type capBuffer struct {
	mu  sync.Mutex
	b   []byte
	n   int
	max int
}

func (c *capBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += len(p)
	if room := c.max - len(c.b); room > 0 {
		c.b = append(c.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (c *capBuffer) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b
}

// tail returns the last n bytes of b as valid, trimmed text.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(bytes.ToValidUTF8(b, []byte("?"))))
}

func trimNL(s string) string { return strings.TrimRight(s, "\n") }

// pinsText lists the pinned sums, sorted by path.
func pinsText(d *scriptV1) string {
	paths := make([]string, 0, len(d.Pins))
	for p := range d.Pins {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	parts := make([]string, len(paths))
	for i, p := range paths {
		parts[i] = p + " sha256:" + d.Pins[p]
	}
	return strings.Join(parts, ", ")
}

// writeSynced writes a small 0600 file and syncs it.
func writeSynced(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
