//go:build linux

package main_test

import (
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestAuditVerifyCatchesAnEditedRowAndADeletedTail runs a real server, lets
// it audit a few actions and stop, then checks `bulwark audit verify` on
// the database: intact passes; an edited row and deleted newest rows fail
// with the first bad seq (issue 7, "done when").
func TestAuditVerifyCatchesAnEditedRowAndADeletedTail(t *testing.T) {
	if !sandbox(t) {
		return
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "server")
	srv := startServer(t, data, "127.0.0.1", 0, 0)
	for _, scope := range []string{"quotes", "ledger", "order-gateway"} {
		if code := srv.call("POST", "/api/v1/halt", e2eAdminToken, map[string]string{"system": scope}, nil); code != http.StatusOK {
			t.Fatalf("halt %s: %d\n%s", scope, code, srv.log)
		}
		if code := srv.call("DELETE", "/api/v1/halt?system="+scope, e2eAdminToken, nil, nil); code != http.StatusOK {
			t.Fatalf("resume %s: %d\n%s", scope, code, srv.log)
		}
	}
	srv.cmd.Process.Signal(syscall.SIGTERM) // a clean stop writes a checkpoint at the last entry
	done := make(chan error, 1)
	go func() { done <- srv.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not stop on SIGTERM\n%s", srv.log)
	}

	verify := func(db string) result {
		return run(t, nil, "audit", "verify", "--db", "sqlite:"+db,
			"--checkpoints", filepath.Join(data, "audit-checkpoints.jsonl"),
			"--public-key", filepath.Join(data, "audit-key.pem.pub"))
	}
	if r := verify(filepath.Join(data, "bulwark.db")); r.code != 0 {
		t.Fatalf("intact log: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	tamper := func(name string, stmts ...string) string {
		t.Helper()
		copyDir := filepath.Join(dir, name)
		if err := os.MkdirAll(copyDir, 0o700); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"bulwark.db", "bulwark.db-wal", "bulwark.db-shm"} {
			b, err := os.ReadFile(filepath.Join(data, f))
			if err == nil {
				err = os.WriteFile(filepath.Join(copyDir, f), b, 0o600)
			}
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
		path := filepath.Join(copyDir, "bulwark.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, s := range stmts {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		return path
	}
	// An insider with write access drops the guard triggers first.
	edited := tamper("edited", "DROP TRIGGER audit_entries_no_update",
		"UPDATE audit_entries SET result_status = 'denied' WHERE seq = 3")
	if r := verify(edited); r.code != 1 || !strings.Contains(r.stdout+r.stderr, "first bad seq 3") {
		t.Fatalf("edited row 3: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	truncated := tamper("truncated", "DROP TRIGGER audit_entries_no_delete",
		"DELETE FROM audit_entries WHERE seq > (SELECT max(seq) - 2 FROM audit_entries)")
	if r := verify(truncated); r.code != 1 || !strings.Contains(r.stdout+r.stderr, "first bad seq") {
		t.Fatalf("newest rows deleted: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	} else {
		t.Logf("truncated tail: %s", strings.TrimSpace(r.stdout+r.stderr))
	}
}
