package cpu_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
)

// TestMain lets the test binary stand in for the bulwark binary: the kind
// re-executes h.Exe (this binary in tests) as `helper cpu-burn …`.
func TestMain(m *testing.M) { faulttest.Main(m) }
