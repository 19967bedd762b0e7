package sqlite_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/internal/auth"
	"github.com/bulwarkhq/bulwark/internal/auth/authtest"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

// TestAuthStore runs the auth.Store contract on a real SQLite file.
func TestAuthStore(t *testing.T) {
	authtest.TestStore(t, func(t *testing.T) auth.Store { return sqlite.NewAuthStore(MustOpenDB(t)) })
}
