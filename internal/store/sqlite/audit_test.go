package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/audit"
	"github.com/bulwarkhq/bulwark/internal/audit/audittest"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

func openAuditDB(t *testing.T, path string) *sqlite.DB { return MustOpenDBAt(t, path) }

// openAuditRaw opens the file with plain database/sql, as someone with
// access to the file (not through bulwark) would.
func openAuditRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

func TestAuditStoreContract(t *testing.T) {
	audittest.Run(t, func(t *testing.T) audit.Store {
		return sqlite.NewAuditStore(openAuditDB(t, filepath.Join(t.TempDir(), "audit.db")))
	})
}

// Two DBs on one file stand for two processes: each has its own writer
// connection, and BEGIN IMMEDIATE keeps the chain gapless between them.
func TestAuditStoreGaplessAcrossConnections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	stores := []audit.Store{
		sqlite.NewAuditStore(openAuditDB(t, path)),
		sqlite.NewAuditStore(openAuditDB(t, path)),
	}
	const each = 40
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			for n := range each {
				if _, err := s.Append(context.Background(), []audit.Entry{audittest.Entry(i*each + n)}, audittest.Seal); err != nil {
					t.Errorf("store %d append %d: %v", i, n, err)
					return
				}
			}
		})
	}
	wg.Wait()
	all := audittest.All(t, stores[0])
	if len(all) != 2*each {
		t.Fatalf("%d entries, want %d", len(all), 2*each)
	}
	for i, e := range all {
		if e.Seq != int64(i+1) || (i > 0 && e.PrevHash != all[i-1].Hash) {
			t.Fatalf("entry %d: seq %d prev %s: chain broken between connections", i, e.Seq, e.PrevHash)
		}
	}
}

// The triggers refuse UPDATE and DELETE through SQL.
func TestAuditStoreRefusesUpdateAndDelete(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	s := sqlite.NewAuditStore(openAuditDB(t, path))
	if _, err := s.Append(context.Background(), []audit.Entry{audittest.Entry(1)}, audittest.Seal); err != nil {
		t.Fatal(err)
	}
	raw := openAuditRaw(t, path)
	if _, err := raw.Exec(`UPDATE audit_entries SET action = 'halt'`); err == nil {
		t.Error("UPDATE audit_entries succeeded; want the append-only trigger to abort it")
	}
	if _, err := raw.Exec(`DELETE FROM audit_entries`); err == nil {
		t.Error("DELETE FROM audit_entries succeeded; want the append-only trigger to abort it")
	}
	if n := len(audittest.All(t, s)); n != 1 {
		t.Fatalf("%d entries after refused changes, want 1", n)
	}
}
