package cli_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/audit"
	"github.com/bulwarkhq/bulwark/internal/server"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

// auditFixture makes a key with 'bulwark audit keygen', then a database
// with 30 entries checkpointed every 10 into a file, as the server would.
func auditFixture(t *testing.T) (dir, db, cps, pub string) {
	t.Helper()
	dir = t.TempDir()
	key := filepath.Join(dir, "audit.key")
	code, out, errs := runCLI(t, "audit", "keygen", "--out", key)
	if code != 0 || !strings.Contains(out, "key id:") {
		t.Fatalf("keygen: exit %d: %s%s", code, out, errs)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode: %v, %v", fi, err)
	}
	priv, err := audit.LoadPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	db, cps = filepath.Join(dir, "bulwark.db"), filepath.Join(dir, "checkpoints.jsonl")
	sdb := sqlite.NewDB(db)
	if err := sdb.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	l := audit.New(sqlite.NewAuditStore(sdb), audit.Options{Key: priv, CheckpointEvery: 10, Sinks: []audit.Sink{audit.NewFileSink(cps)}})
	for range 30 {
		_, err := l.Record(context.Background(), audit.Entry{
			Actor: audit.Actor{ID: "u-alice", Kind: audit.ActorUser}, Action: "fault.inject",
			Resource: "fault/1", Result: audit.Result{Status: audit.ResultOK},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir, db, cps, key + ".pub"
}

func tamperDB(t *testing.T, path string, stmts ...string) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, s := range append([]string{`DROP TRIGGER audit_entries_no_update`, `DROP TRIGGER audit_entries_no_delete`}, stmts...) {
		if _, err := raw.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestAuditVerify(t *testing.T) {
	_, db, cps, pub := auditFixture(t)
	args := []string{"audit", "verify", "--db", "sqlite:" + db, "--checkpoints", cps, "--public-key", pub}

	code, out, errs := runCLI(t, args...)
	if code != 0 || !strings.Contains(out, "audit log ok: 30 entries, 6 checkpoints match") {
		t.Fatalf("clean log: exit %d: %s%s", code, out, errs)
	}

	tamperDB(t, db, `UPDATE audit_entries SET actor_id = 'u-mallory' WHERE seq = 17`)
	code, out, _ = runCLI(t, args...)
	if code != 1 || !strings.HasPrefix(out, "first bad seq 17: ") {
		t.Fatalf("edited row: exit %d: %s", code, out)
	}

	code, out, _ = runCLI(t, append(args, "--json")...)
	var rep audit.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.OK || rep.FirstBadSeq != 17 || rep.Entries != 30 {
		t.Fatalf("--json: exit %d: %s (%v)", code, out, err)
	}
}

// "fails after ... the newest rows are deleted" (issue 7, done-when).
func TestAuditVerifyTruncatedTail(t *testing.T) {
	_, db, cps, pub := auditFixture(t)
	tamperDB(t, db, `DELETE FROM audit_entries WHERE seq > 25`)
	code, out, _ := runCLI(t, "audit", "verify", "--db", "sqlite:"+db, "--checkpoints", cps, "--public-key", pub)
	if code != 1 || !strings.HasPrefix(out, "first bad seq 26: ") || !strings.Contains(out, "tail") {
		t.Fatalf("truncated tail: exit %d: %s", code, out)
	}
}

func TestAuditBadInput(t *testing.T) {
	dir, db, cps, pub := auditFixture(t)
	notPEM := filepath.Join(dir, "x.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not sqlite", []string{"audit", "verify", "--db", "postgres://x"}, "--db"},
		{"missing db", []string{"audit", "verify", "--db", "sqlite:" + filepath.Join(dir, "none.db")}, "--db"},
		{"missing checkpoint file", []string{"audit", "verify", "--db", "sqlite:" + db, "--checkpoints", filepath.Join(dir, "none")}, "checkpoint file"},
		{"bad public key", []string{"audit", "verify", "--db", "sqlite:" + db, "--public-key", notPEM}, "--public-key"},
		{"keygen without --out", []string{"audit", "keygen"}, "--out"},
		{"keygen over a key", []string{"audit", "keygen", "--out", strings.TrimSuffix(pub, ".pub")}, "refusing to overwrite"},
		{"unknown flag", []string{"audit", "verify", "--nope"}, "unknown flag"},
	}
	_ = cps
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tt.args...)
			if code != 2 || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 naming %q", code, out, errs, tt.want)
			}
		})
	}
}

func TestAuditExportAndVerifyArchive(t *testing.T) {
	dir, db, _, pub := auditFixture(t)
	arch := filepath.Join(dir, "2026-11.jsonl")
	code, out, errs := runCLI(t, "audit", "export", "--db", "sqlite:"+db, "--out", arch)
	if code != 0 || !strings.Contains(out, "archived seq 1..30") {
		t.Fatalf("export: exit %d: %s%s", code, out, errs)
	}
	code, out, errs = runCLI(t, "audit", "verify", "--archive", arch, "--public-key", pub)
	if code != 0 || !strings.Contains(out, "audit log ok: 30 entries, 3 checkpoints match") {
		t.Fatalf("verify archive: exit %d: %s%s", code, out, errs)
	}
	code, _, errs = runCLI(t, "audit", "export", "--db", "sqlite:"+db, "--from", "11", "--to", "25", "--out", filepath.Join(dir, "x"))
	if code != 2 || !strings.Contains(errs, "no checkpoint at seq 25") {
		t.Fatalf("export to an uncheckpointed seq: exit %d: %s", code, errs)
	}
	code, _, errs = runCLI(t, "audit", "export", "--db", "sqlite:"+db, "--out", arch)
	if code != 2 || !strings.Contains(errs, "--out") {
		t.Fatalf("export over an existing file: exit %d: %s", code, errs)
	}

	b, _ := os.ReadFile(arch)
	os.WriteFile(arch, []byte(strings.Replace(string(b), `"id":"u-alice"`, `"id":"u-mallory"`, 1)), 0o600)
	code, out, _ = runCLI(t, "audit", "verify", "--archive", arch, "--public-key", pub)
	if code != 1 || !strings.HasPrefix(out, "first bad seq 1: ") {
		t.Fatalf("edited archive: exit %d: %s", code, out)
	}
}

// 'audit verify --server' asks a real server (internal/server on a temp
// dir and a loopback port) and prints the same report.
func TestAuditVerifyServer(t *testing.T) {
	dir := t.TempDir()
	admin := "bwk_" + strings.Repeat("a1B2", 10)
	app, err := server.OpenApp(context.Background(), server.AppConfig{DataDir: dir, Listen: "127.0.0.1:0", AdminToken: admin})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	defer app.Close(context.Background())
	url := app.Server.URL()

	code, out, errs := runCLI(t, "audit", "verify", "--server", url, "--token", admin)
	if code != 0 || !strings.HasPrefix(out, "audit log ok: ") {
		t.Fatalf("verify --server: exit %d: %s%s", code, out, errs)
	}
	code, _, errs = runCLI(t, "audit", "verify", "--server", url, "--token", "bwk_wrong")
	if code != 1 || !strings.Contains(errs, "unauthorized") {
		t.Fatalf("verify --server with a bad token: exit %d: %s", code, errs)
	}
	code, _, errs = runCLI(t, "audit", "verify", "--server", url, "--token", admin, "--checkpoints", "x")
	if code != 2 {
		t.Fatalf("--server with --checkpoints: exit %d: %s", code, errs)
	}

	tamperDB(t, filepath.Join(dir, "bulwark.db"), `UPDATE audit_entries SET action = 'halt' WHERE seq = 1`)
	code, out, _ = runCLI(t, "audit", "verify", "--server", url, "--token", admin, "--json")
	var rep audit.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.OK || rep.FirstBadSeq != 1 {
		t.Fatalf("verify --server after an edit: exit %d: %s", code, out)
	}
}
