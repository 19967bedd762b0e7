package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/bulwarkhq/bulwark"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// busyTimeout is how long a connection waits for a lock held by another
// process (another bulwark command on the same file) before failing.
const busyTimeout = 10 * time.Second

// DB is the embedded database: one file in WAL mode, a single writer
// connection and a pool of read-only connections.
//
// All writes go through the one writer connection, so they are serialised
// inside the process without SQLITE_BUSY; other processes are waited for up
// to busyTimeout. Readers see the last committed state and never block the
// writer (WAL).
type DB struct {
	writer *sql.DB
	reader *sql.DB

	// Path is the database file. ":memory:" gives a private in-memory
	// database (one connection for reads and writes), for tests.
	Path string

	// Now returns the current time. It defaults to time.Now and may be
	// replaced before Open, in tests.
	Now func() time.Time
}

// NewDB returns a DB for the file at path; call Open before use.
func NewDB(path string) *DB {
	return &DB{Path: path, Now: time.Now}
}

// Open opens the database, creating the file and its directory if needed,
// sets the pragmas on every connection and runs the pending migrations.
func (db *DB) Open(ctx context.Context) (err error) {
	if db.Path == "" {
		return bulwark.Errorf(bulwark.EINVALID, "sqlite: database path required")
	}
	if db.Path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(db.Path), 0o700); err != nil {
			return fmt.Errorf("create database directory: %w", err)
		}
	}
	defer func() {
		if err != nil {
			_ = db.Close()
		}
	}()

	// Open the single writer first: it creates the file and switches it to
	// WAL, which readers then find. BEGIN IMMEDIATE takes the write lock at
	// the start of each transaction, so a transaction never fails half-way
	// to upgrade its lock.
	if db.writer, err = sql.Open("sqlite", dsn(db.Path, "immediate", false)); err != nil {
		return fmt.Errorf("open writer: %w", err)
	}
	db.writer.SetMaxOpenConns(1)
	db.writer.SetConnMaxIdleTime(0)
	if err := db.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("open %s: %w", db.Path, err)
	}
	if err := db.migrate(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", db.Path, err)
	}

	if db.Path == ":memory:" {
		db.reader = db.writer
		return nil
	}
	if db.reader, err = sql.Open("sqlite", dsn(db.Path, "deferred", true)); err != nil {
		return fmt.Errorf("open reader: %w", err)
	}
	db.reader.SetMaxOpenConns(max(4, runtime.NumCPU()))
	return nil
}

// dsn returns the modernc.org/sqlite data source name for path. The pragmas
// are per connection, so they go in the DSN, which the driver applies to
// every connection it opens. synchronous=NORMAL in WAL mode keeps every
// committed transaction across a crash of the process; only a power loss can
// lose the last ones. The fault journal, which needs FULL, is a separate file.
func dsn(path, txlock string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+fmt.Sprint(busyTimeout.Milliseconds())+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	}
	q.Set("_txlock", txlock)
	if path == ":memory:" {
		return "file::memory:?" + q.Encode()
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// migrate runs the embedded migrations with goose's Provider API, each in its
// own transaction, on the writer connection.
func (db *DB) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("open migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db.writer, fsys)
	if err != nil {
		return fmt.Errorf("new goose provider: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// Close closes every connection. It is safe to call more than once.
func (db *DB) Close() error {
	var errs []error
	if db.reader != nil && db.reader != db.writer {
		errs = append(errs, db.reader.Close())
	}
	if db.writer != nil {
		errs = append(errs, db.writer.Close())
	}
	db.reader, db.writer = nil, nil
	return errors.Join(errs...)
}

// Tx is a transaction with the time it started, taken once from DB.Now so
// that every row it writes carries the same timestamp.
type Tx struct {
	*sql.Tx
	db  *DB
	now time.Time
}

// BeginTx starts a write transaction on the writer connection.
func (db *DB) BeginTx(ctx context.Context) (*Tx, error) {
	return db.begin(ctx, db.writer)
}

// BeginReadTx starts a read-only transaction on a reader connection; it sees
// one consistent snapshot of the database.
func (db *DB) BeginReadTx(ctx context.Context) (*Tx, error) {
	return db.begin(ctx, db.reader)
}

func (db *DB) begin(ctx context.Context, conn *sql.DB) (*Tx, error) {
	if conn == nil {
		return nil, bulwark.Errorf(bulwark.EUNAVAILABLE, "sqlite: database is not open")
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{Tx: tx, db: db, now: db.Now().UTC()}, nil
}

// write runs fn in one write transaction and commits it when fn succeeds.
func (db *DB) write(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// read runs fn in one read-only transaction (one consistent snapshot).
func (db *DB) read(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := db.BeginReadTx(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	return fn(tx)
}

// rollback ends a transaction that was not committed; after a commit it is a
// no-op, so it is deferred right after begin.
func (tx *Tx) rollback() { _ = tx.Rollback() }

// isConstraint reports whether err is a SQLite constraint violation of the
// given extended code (for example SQLITE_CONSTRAINT_PRIMARYKEY).
func isConstraint(err error, code int) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == code
}

// Extended result codes this package maps to bulwark error codes.
const (
	codePrimaryKey = sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	codeForeignKey = sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
)
