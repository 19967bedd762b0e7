package sqlite

import (
	"context"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// TestStoredTimeText checks the text form of stored timestamps (contract 12):
// UTC, nine fractional digits, "Z", whatever zone the time came in with.
func TestStoredTimeText(t *testing.T) {
	ctx := context.Background()
	db := NewDB(filepath.Join(t.TempDir(), "db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s := NewRunStore(db)

	for _, tc := range []struct {
		name string
		in   time.Time
		want string
	}{
		{"ZoneAndNanos", time.Date(2025, 3, 14, 9, 30, 0, 123456789, time.FixedZone("CST", 8*3600)), "2025-03-14T01:30:00.123456789Z"},
		{"WholeSecond", time.Date(2025, 3, 14, 1, 30, 0, 0, time.UTC), "2025-03-14T01:30:00.000000000Z"},
		{"OneNano", time.Date(2025, 3, 14, 1, 30, 0, 1, time.UTC), "2025-03-14T01:30:00.000000001Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &bulwark.Run{ID: bulwark.NewID(), DrillName: "d", State: bulwark.RunPending, CreatedAt: tc.in}
			if err := s.CreateRun(ctx, r); err != nil {
				t.Fatal(err)
			}
			var created, updated string
			if err := db.reader.QueryRowContext(ctx, `SELECT created_at, updated_at FROM runs WHERE id = ?`, r.ID).
				Scan(&created, &updated); err != nil {
				t.Fatal(err)
			}
			if created != tc.want {
				t.Errorf("created_at = %q, want %q", created, tc.want)
			}
			if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$`).MatchString(updated) {
				t.Errorf("updated_at = %q, not in bulwark.TimeLayout", updated)
			}
		})
	}
}

// TestPragmas checks the per-connection settings on both pools.
func TestPragmas(t *testing.T) {
	ctx := context.Background()
	db := NewDB(filepath.Join(t.TempDir(), "db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	for _, tc := range []struct {
		pragma string
		writer string
		reader string
	}{
		{"journal_mode", "wal", "wal"},
		{"foreign_keys", "1", "1"},
		{"busy_timeout", "10000", "10000"},
		{"synchronous", "1", "1"}, // NORMAL
		{"query_only", "0", "1"},
	} {
		for name, want := range map[string]string{"writer": tc.writer, "reader": tc.reader} {
			conn := db.writer
			if name == "reader" {
				conn = db.reader
			}
			var got string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s: PRAGMA %s = %s, want %s", name, tc.pragma, got, want)
			}
		}
	}
}
