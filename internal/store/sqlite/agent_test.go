package sqlite_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore/agentstoretest"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

func TestAgentStore(t *testing.T) {
	agentstoretest.Run(t, func(t *testing.T) agentstore.Store {
		return sqlite.NewAgentStore(MustOpenDB(t))
	})
}
