// Package sqlite implements Bulwark's stores on an embedded SQLite database
// (modernc.org/sqlite, pure Go). It is the only package that imports the
// driver, so the driver registers once.
//
// Invariants:
//   - One DB per file per process: a single writer connection serialises
//     writes; a pool of query-only connections reads. WAL lets readers and
//     the writer proceed together, and busy_timeout waits out other processes.
//   - The schema is goose migrations embedded from migrations/*.sql, applied
//     by Open with goose's Provider API; never edit a released migration, add
//     one.
//   - Timestamps are TEXT in bulwark.TimeLayout (UTC, nanoseconds, fixed
//     width), so that text order is time order; spans are INTEGER
//     nanoseconds; NULL is "not detected".
//   - Exported methods are thin: they open a Tx and call (ctx, tx, …)
//     helpers, which compose inside one transaction.
package sqlite
