package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
	"github.com/bulwarkhq/bulwark/internal/store/storetest"
)

// MustOpenDB opens a new database in a temporary directory and closes it
// when the test ends.
func MustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	return MustOpenDBAt(tb, filepath.Join(tb.TempDir(), "bulwark.db"))
}

// MustOpenDBAt opens the database at path and closes it when the test ends.
func MustOpenDBAt(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(path)
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

func TestRunStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bulwark.RunStore {
		return sqlite.NewRunStore(MustOpenDB(t))
	})
}

func TestRunStoreMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bulwark.RunStore {
		return sqlite.NewRunStore(MustOpenDBAt(t, ":memory:"))
	})
}

func TestOpenRequiresPath(t *testing.T) {
	err := sqlite.NewDB("").Open(context.Background())
	if bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Fatalf("Open(\"\") = %v, want invalid", err)
	}
}

// TestReopen checks that migrations run once and that what one process
// wrote is there for the next, as the cleanup of a killed run needs.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "dir", "bulwark.db")

	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	s := sqlite.NewRunStore(db)
	r := &bulwark.Run{ID: bulwark.NewID(), DrillName: "d", State: bulwark.RunRunning}
	if err := s.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendEvent(ctx, &bulwark.RunEvent{RunID: r.ID, Type: bulwark.EventFaultInjecting}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s2 := sqlite.NewRunStore(MustOpenDBAt(t, path))
	runs, err := s2.UnfinishedRuns(ctx)
	if err != nil || len(runs) != 1 || runs[0].ID != r.ID {
		t.Fatalf("UnfinishedRuns after reopen = %v, %v; want run %s", runs, err, r.ID)
	}
	seq, err := s2.AppendEvent(ctx, &bulwark.RunEvent{RunID: r.ID, Type: bulwark.EventRecoveryStarted})
	if err != nil || seq != 2 {
		t.Fatalf("AppendEvent after reopen = %d, %v; want seq 2", seq, err)
	}
}

// TestNow checks that the injected clock stamps rows, in UTC.
func TestNow(t *testing.T) {
	ctx := context.Background()
	fixed := time.Date(2025, 1, 2, 3, 4, 5, 6, time.FixedZone("CST", 8*3600))
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "db"))
	db.Now = func() time.Time { return fixed }
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s := sqlite.NewRunStore(db)
	r := &bulwark.Run{ID: bulwark.NewID(), DrillName: "d", State: bulwark.RunPending}
	if err := s.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindRunByID(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, ts := range map[string]time.Time{"CreatedAt": got.CreatedAt, "UpdatedAt": got.UpdatedAt} {
		if !ts.Equal(fixed) || ts.Location() != time.UTC {
			t.Errorf("%s = %v, want %v in UTC", name, ts, fixed)
		}
	}
}
