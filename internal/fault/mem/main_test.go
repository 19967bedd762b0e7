package mem_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
)

// TestMain lets the test binary stand in for the bulwark binary as the
// mem-fill helper.
func TestMain(m *testing.M) { faulttest.Main(m) }
