package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/audit"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

// fixture is a real SQLite audit store in a temp dir, with a signing key
// and a checkpoint file.
type fixture struct {
	dir, dbPath, cpFile string
	db                  *sqlite.DB
	store               *sqlite.AuditStore
	key                 ed25519.PrivateKey
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{dir: dir, dbPath: filepath.Join(dir, "bulwark.db"), cpFile: filepath.Join(dir, "checkpoints.jsonl")}
	f.db = sqlite.NewDB(f.dbPath)
	if err := f.db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.Close() })
	f.store = sqlite.NewAuditStore(f.db)
	_, f.key, _ = ed25519.GenerateKey(rand.Reader)
	return f
}

// log returns a Log over the fixture's store that checkpoints every
// `every` entries into the database and the checkpoint file.
func (f *fixture) log(every int, mods ...func(*audit.Options)) *audit.Log {
	o := audit.Options{
		Key: f.key, CheckpointEvery: every, Sinks: []audit.Sink{audit.NewFileSink(f.cpFile)},
		SpoolPath: filepath.Join(f.dir, "audit.spool"), Logger: slog.New(slog.DiscardHandler),
	}
	for _, m := range mods {
		m(&o)
	}
	return audit.New(f.store, o)
}

func (f *fixture) verify(t testing.TB) audit.Report {
	t.Helper()
	opts := audit.VerifyOptions{PublicKey: f.key.Public().(ed25519.PublicKey)}
	if _, err := os.Stat(f.cpFile); err == nil {
		opts.CheckpointFile = f.cpFile
	}
	rep, err := audit.Verify(context.Background(), f.store, opts)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

// entry returns a valid entry for Record.
func entry(n int) audit.Entry {
	return audit.Entry{
		Actor:    audit.Actor{ID: "u-alice", Kind: audit.ActorUser},
		Action:   "fault.inject",
		Resource: fmt.Sprintf("fault/%d", n),
		Result:   audit.Result{Status: audit.ResultOK},
	}
}

func record(t *testing.T, l *audit.Log, from, to int) {
	t.Helper()
	for n := from; n <= to; n++ {
		if _, err := l.Record(context.Background(), entry(n)); err != nil {
			t.Fatalf("Record %d: %v", n, err)
		}
	}
}

// tamper opens the file as an attacker with write access would, with the
// append-only triggers dropped, and runs the statements.
func (f *fixture) tamper(t *testing.T, stmts ...string) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+f.dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	stmts = append([]string{
		`DROP TRIGGER IF EXISTS audit_entries_no_update`, `DROP TRIGGER IF EXISTS audit_entries_no_delete`,
		`DROP TRIGGER IF EXISTS audit_checkpoints_no_update`, `DROP TRIGGER IF EXISTS audit_checkpoints_no_delete`,
	}, stmts...)
	for _, s := range stmts {
		if _, err := raw.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}
