package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// Audit commits run with synchronous=FULL (2) and leave the writer
// connection at the DSN's NORMAL (1) for every other store.
func TestAuditDurablySetsAndRestoresSynchronous(t *testing.T) {
	db := NewDB(filepath.Join(t.TempDir(), "a.db"))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := NewAuditStore(db)
	var inside int
	err := s.durably(context.Background(), func(tx *Tx) error {
		return tx.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&inside)
	})
	if err != nil {
		t.Fatal(err)
	}
	var after int
	if err := db.writer.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if inside != 2 || after != 1 {
		t.Fatalf("synchronous inside %d, after %d; want FULL (2) inside and NORMAL (1) after", inside, after)
	}
}
