package disk_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
)

// TestMain lets the test binary stand in for the bulwark binary: disk.io
// re-executes h.Exe (this binary in tests) as `helper disk-io …`.
func TestMain(m *testing.M) { faulttest.Main(m) }
