package probe_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/probe"
)

// mustProbe builds a probe and closes it when the test ends.
func mustProbe(tb testing.TB, name string, cfg probe.Config, opts probe.Options) probe.Probe {
	tb.Helper()
	p, err := probe.New(name, cfg, opts)
	if err != nil {
		tb.Fatalf("probe.New: %v", err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

// check runs one check with a test deadline.
func check(tb testing.TB, p probe.Probe) probe.Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return p.Check(ctx)
}

// sha256File returns the hex SHA-256 of the file at path.
func sha256File(tb testing.TB, path string) string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
