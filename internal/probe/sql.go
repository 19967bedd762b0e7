package probe

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/bulwarkhq/bulwark"

	_ "github.com/go-sql-driver/mysql" // the "mysql" driver (MySQL, MariaDB)
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver (PostgreSQL)
	_ "github.com/sijms/go-ora/v2"     // the "oracle" driver, pure Go
)

func init() {
	Register(Kind{Name: "sql", NewConfig: func() Config { return &SQLConfig{} }})
}

// The database drivers a sql probe can use, keyed by SQLConfig.Driver, with
// the database/sql driver name each maps to.
var sqlDrivers = map[string]string{"postgres": "pgx", "mysql": "mysql", "oracle": "oracle"}

// Pool bounds for a sql probe.
const (
	defaultMaxConns = 2
	maxMaxConns     = 10
)

// SQLConfig is a sql probe: one query per check on a small connection pool of
// its own. Rows are never kept: the probe reads at most as many rows as
// Expect needs and keeps only the first column of the first row, as a number.
// The query should be read-only; the probe does not enforce that.
type SQLConfig struct {
	// Driver is postgres, mysql (also MariaDB) or oracle.
	Driver string `json:"driver" yaml:"driver"`
	// DSN is the driver's data source name: a postgres:// URL or key=value
	// string; "user:pass@tcp(host:3306)/db" for mysql; an oracle:// URL or
	// "user/pass@host:port/service" for oracle. ${VAR} is replaced by the
	// environment variable VAR, so passwords need not be in the drill file.
	DSN   string `json:"dsn" yaml:"dsn"`
	Query string `json:"query" yaml:"query"`
	// Expect is what counts as success; nil means the query ran without error.
	Expect *SQLExpect `json:"expect,omitempty" yaml:"expect,omitempty"`
	// Timeout bounds each check, including getting a connection; 0 means 2s.
	Timeout bulwark.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// MaxConns bounds the probe's pool (default 2, at most 10).
	MaxConns int `json:"maxConns,omitempty" yaml:"maxConns,omitempty"`
}

// SQLExpect is a sql probe's success condition. Both parts, when set, must hold.
type SQLExpect struct {
	// MinRows is the least number of rows the query must return.
	MinRows int `json:"minRows,omitempty" yaml:"minRows,omitempty"`
	// Op, when set, compares the first column of the first row with Value.
	Op    Op      `json:"op,omitempty" yaml:"op,omitempty"`
	Value float64 `json:"value,omitempty" yaml:"value,omitempty"`
}

// Validate implements Config.
func (c *SQLConfig) Validate() error {
	var errs []error
	if _, ok := sqlDrivers[c.Driver]; !ok {
		errs = append(errs, fmt.Errorf("driver: %q is not postgres, mysql or oracle", c.Driver))
	}
	if strings.TrimSpace(c.DSN) == "" {
		errs = append(errs, errors.New("dsn: required"))
	} else if c.Driver == "oracle" {
		if _, err := oracleDSN(c.DSN); err != nil {
			errs = append(errs, fmt.Errorf("dsn: %w", err))
		}
	}
	if strings.TrimSpace(c.Query) == "" {
		errs = append(errs, errors.New("query: required"))
	}
	if c.MaxConns < 0 || c.MaxConns > maxMaxConns {
		errs = append(errs, fmt.Errorf("maxConns: %d is not within 0-%d", c.MaxConns, maxMaxConns))
	}
	if e := c.Expect; e != nil {
		if e.MinRows < 0 {
			errs = append(errs, fmt.Errorf("expect.minRows: %d is negative", e.MinRows))
		}
		if e.Op != "" {
			if err := e.Op.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("expect.%w", err))
			}
		}
		if e.MinRows == 0 && e.Op == "" {
			errs = append(errs, errors.New("expect: set minRows, op or both"))
		}
	}
	return errors.Join(errs...)
}

// Build implements Config. It opens the pool; connections are made on the
// first check.
func (c *SQLConfig) Build(name string, opts Options) (Probe, error) {
	dsn := os.ExpandEnv(c.DSN)
	if c.Driver == "oracle" {
		var err error
		if dsn, err = oracleDSN(dsn); err != nil {
			return nil, fmt.Errorf("dsn: %w", err)
		}
	}
	db, err := sql.Open(sqlDrivers[c.Driver], dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s %s: %w", c.Driver, RedactDSN(dsn), err)
	}
	n := c.MaxConns
	if n == 0 {
		n = defaultMaxConns
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	return &sqlProbe{name: name, cfg: *c, opts: opts, db: db}, nil
}

type sqlProbe struct {
	name   string
	cfg    SQLConfig
	opts   Options
	db     *sql.DB
	closed sync.Once
}

func (p *sqlProbe) Name() string { return p.name }

func (p *sqlProbe) Close() error {
	var err error
	p.closed.Do(func() { err = p.db.Close() })
	return err
}

func (p *sqlProbe) Check(ctx context.Context) Result {
	timeout := p.cfg.Timeout.Std()
	if timeout == 0 {
		timeout = defaultTimeout
	}
	return timed(ctx, p.opts, timeout, p.query)
}

// query runs the query, reads no more rows than Expect needs and judges them.
func (p *sqlProbe) query(ctx context.Context) (*float64, error) {
	rows, err := p.db.QueryContext(ctx, p.cfg.Query)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	need := 1
	if p.cfg.Expect != nil {
		need = max(need, p.cfg.Expect.MinRows)
	}
	var (
		n      int
		scalar *float64
	)
	for n < need && rows.Next() {
		n++
		if n == 1 {
			if scalar, err = firstColumn(rows); err != nil {
				return nil, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return scalar, fmt.Errorf("read rows: %w", err)
	}
	return scalar, judgeRows(p.cfg.Expect, n, scalar)
}

// judgeRows applies Expect to the row count (up to MinRows) and the scalar.
func judgeRows(e *SQLExpect, n int, scalar *float64) error {
	if e == nil {
		return nil
	}
	if n < e.MinRows {
		return fmt.Errorf("query returned %d rows, want at least %d", n, e.MinRows)
	}
	if e.Op == "" {
		return nil
	}
	if scalar == nil {
		return errors.New("query returned no numeric first column to compare")
	}
	if !e.Op.Holds(*scalar, e.Value) {
		return fmt.Errorf("value %s %s %s is false", formatFloat(*scalar), e.Op, formatFloat(e.Value))
	}
	return nil
}

// firstColumn scans the current row and returns its first column as a number,
// or nil when it is not numeric.
func firstColumn(rows *sql.Rows) (*float64, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("columns: %w", err)
	}
	if len(cols) == 0 {
		return nil, nil
	}
	vals := make([]any, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	return number(vals[0]), nil
}

// number converts a driver value to a float64 when it is numeric.
func number(v any) *float64 {
	var f float64
	switch x := v.(type) {
	case int64:
		f = float64(x)
	case int32:
		f = float64(x)
	case float64:
		f = x
	case float32:
		f = float64(x)
	case bool:
		if x {
			f = 1
		}
	case []byte:
		return number(string(x))
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return nil
		}
	default:
		return nil
	}
	if math.IsNaN(f) {
		return nil
	}
	return &f
}

var (
	_ Config = (*SQLConfig)(nil)
	_ Probe  = (*sqlProbe)(nil)
)
