package probe_test

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/probe"
)

// requireServer skips unless something listens on addr; under CI=true it
// fails instead (STYLE §3 rule 15).
func requireServer(t *testing.T, what, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s at %s unreachable (%v); failing because CI=true", what, addr, err)
	}
	t.Skipf("%s at %s unreachable: %v", what, addr, err)
}

// The machine's PostgreSQL and MariaDB; the probes only read.
const (
	pgDSN    = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&connect_timeout=5"
	mysqlDSN = "root@tcp(127.0.0.1:3306)/test?timeout=5s"
)

func TestSQLProbe(t *testing.T) {
	type tc struct {
		name    string
		query   string
		expect  *probe.SQLExpect
		ok      bool
		value   float64
		errPart string
	}
	common := []tc{
		{"select 1", "SELECT 1", nil, true, 1, ""},
		{"rows > 0", "SELECT 1", &probe.SQLExpect{MinRows: 1}, true, 1, ""},
		{"scalar holds", "SELECT 42", &probe.SQLExpect{Op: probe.OpGE, Value: 40}, true, 42, ""},
		{"scalar fails", "SELECT 42", &probe.SQLExpect{Op: probe.OpLT, Value: 40}, false, 42, "42 < 40 is false"},
		{"too few rows", "SELECT 1 UNION ALL SELECT 2", &probe.SQLExpect{MinRows: 3}, false, 1, "2 rows, want at least 3"},
		{"decimal", "SELECT 2.5", &probe.SQLExpect{Op: probe.OpEQ, Value: 2.5}, true, 2.5, ""},
		{"syntax error", "SELEC 1", nil, false, 0, "query:"},
	}
	dbs := []struct {
		driver, addr, dsn string
	}{
		{"postgres", "127.0.0.1:5432", pgDSN},
		{"mysql", "127.0.0.1:3306", mysqlDSN},
	}
	for _, db := range dbs {
		t.Run(db.driver, func(t *testing.T) {
			requireServer(t, db.driver, db.addr)
			for _, c := range common {
				t.Run(c.name, func(t *testing.T) {
					cfg := &probe.SQLConfig{Driver: db.driver, DSN: db.dsn, Query: c.query, Expect: c.expect,
						Timeout: bulwark.Duration(5 * time.Second)}
					r := check(t, mustProbe(t, "db", cfg, probe.Options{}))
					if r.OK != c.ok || !strings.Contains(r.Err, c.errPart) {
						t.Fatalf("Check = %+v, want ok=%v err~%q", r, c.ok, c.errPart)
					}
					if c.value != 0 && (r.Value == nil || *r.Value != c.value) {
						t.Fatalf("Value = %v, want %v", r.Value, c.value)
					}
				})
			}
		})
	}
}

// TestSQLPoolReused checks many times through one bounded pool.
func TestSQLPoolReused(t *testing.T) {
	requireServer(t, "postgres", "127.0.0.1:5432")
	p := mustProbe(t, "db", &probe.SQLConfig{Driver: "postgres", DSN: pgDSN, Query: "SELECT 1", MaxConns: 1}, probe.Options{})
	for i := 0; i < 20; i++ {
		if r := check(t, p); !r.OK {
			t.Fatalf("check %d: %+v", i, r)
		}
	}
}

func TestSQLUnreachable(t *testing.T) {
	addr := closedAddr(t)
	cfg := &probe.SQLConfig{Driver: "mysql", DSN: "root:secret@tcp(" + addr + ")/test?timeout=1s", Query: "SELECT 1"}
	r := check(t, mustProbe(t, "db", cfg, probe.Options{}))
	if r.OK || strings.Contains(r.Err, "secret") {
		t.Fatalf("Check = %+v, want a failure that does not show the password", r)
	}
}

func TestSQLDSNFromEnv(t *testing.T) {
	requireServer(t, "postgres", "127.0.0.1:5432")
	t.Setenv("BULWARK_TEST_DSN", pgDSN)
	p := mustProbe(t, "db", &probe.SQLConfig{Driver: "postgres", DSN: "${BULWARK_TEST_DSN}", Query: "SELECT 1"}, probe.Options{})
	if r := check(t, p); !r.OK {
		t.Fatalf("Check = %+v", r)
	}
}

// There is no Oracle server on this machine: Oracle is tested up to the DSN
// and building the probe (the go-ora driver registers and opens lazily).
func TestOracleDSNAccepted(t *testing.T) {
	for _, dsn := range []string{
		"oracle://scott:tiger@db1:1521/ORCLPDB1",
		"scott/tiger@db1:1521/ORCLPDB1",
		"scott/tiger@db1/ORCLPDB1",
		"scott/p@ss@db1:1522/svc",
	} {
		t.Run(dsn, func(t *testing.T) {
			mustProbe(t, "ora", &probe.SQLConfig{Driver: "oracle", DSN: dsn, Query: "SELECT 1 FROM dual"}, probe.Options{})
		})
	}
}
