package all_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/internal/fault"
	_ "github.com/bulwarkhq/bulwark/internal/fault/all"
)

// TestEveryKindsSchemaParses parses the parameter schema of every kind this
// platform registers: Register does not (it would cost every command's
// start-up), so a malformed param tag is caught here instead.
func TestEveryKindsSchemaParses(t *testing.T) {
	kinds := fault.Kinds("")
	if len(kinds) == 0 {
		t.Fatal("no kinds registered")
	}
	for _, k := range kinds {
		info := k.Info()
		if _, err := fault.SchemaOf(info.NewParams()); err != nil {
			t.Errorf("%s: %v", info.ID, err)
		}
	}
}
