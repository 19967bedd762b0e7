package sqlite_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
	"github.com/bulwarkhq/bulwark/internal/store/storetest"
)

func TestInventoryService(t *testing.T) {
	storetest.InventoryRun(t, func(t *testing.T) bulwark.InventoryService {
		return sqlite.NewInventoryService(MustOpenDB(t))
	})
}
