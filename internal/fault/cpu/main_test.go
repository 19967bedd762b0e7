package cpu_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// TestMain lets the test binary stand in for the bulwark binary: the kind
// re-executes h.Exe (this binary in tests) as `helper cpu-burn …`.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "helper" {
		fn, err := fault.LookupHelper(os.Args[2])
		if err == nil {
			err = fn(context.Background(), os.Args[3:])
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
