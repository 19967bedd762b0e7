// Package probe observes a system's steady state for a drill: it checks
// endpoints (http, tcp), runs allow-listed commands, asks Prometheus and SQL
// databases questions with a threshold, and drives synthetic transactions at a
// fixed rate (load). Every observation is a Result; a Sampler takes Results on
// a schedule and a Window turns them into the metrics that tolerances and
// abort conditions use (DESIGN §5.1 contracts 5 and 6).
//
// # Contracts
//
//   - A Probe's Check never panics and never returns an error: failure is a
//     Result with OK false and Err saying why. Check honours ctx and the
//     probe's own Timeout, whichever ends first.
//   - Close releases the probe's connections (idle HTTP connections, the SQL
//     pool); Check must not be called after Close. Close is idempotent.
//   - A Probe is safe for concurrent use by several goroutines.
//   - Metrics (contract 6) are successRate, errorRate, p50, p90, p99 and lastOK;
//     percentiles are nearest-rank over the latencies of successful samples
//     (contract 5).
//
// # Kinds
//
// The registry (Register, Lookup, Kinds) is the only list of probe kinds. The
// built-in kinds are:
//
//   - http: one request, on a new connection unless keepAlive: true; OK when
//     the status is in expectStatus (default 2xx).
//   - tcp: a TCP connect; OK when the handshake completes.
//   - command: runs an executable that is allow-listed by SHA-256 (DESIGN §6.9),
//     without a shell; OK when it exits with expectExit.
//   - prometheus: a PromQL instant query (GET /api/v1/query); OK when every
//     sample of the result satisfies "value OP threshold".
//   - sql: one query on a bounded pool (postgres, mysql, oracle); the rows are
//     never kept: only ok, the latency and the first column of the first row
//     as a number.
//   - load: synthetic HTTP transactions at a fixed rate, each one a Result.
//
// # load is query-only in production-class environments
//
// A load probe sends real requests at a fixed rate for as long as the drill
// runs. In production and DR it must only issue read-only requests (a quote
// lookup, an order-status query, a health endpoint): never place orders, move
// money or write anything. The probe cannot know what a URL does, so the
// policy gate and the drill's reviewers enforce this; the probe itself keeps
// the offered load bounded (rate and concurrency are required and capped).
//
// Scheduling is open-loop: request n is due at start + n/rate whether or not
// earlier requests have returned, so a slow server does not lower the offered
// rate (no coordinated omission). At most Concurrency requests are in flight;
// a request that is due while the cap is reached is not sent and counts as a
// failure ("dropped"). Latency is measured from when a request was due.
//
// # command probes and TOCTOU
//
// The allow-list maps an absolute path to the SHA-256 of the executable. On
// Linux the probe opens the file once, hashes the bytes through that open
// descriptor and then executes the same descriptor (as /proc/self/fd/3 in the
// child), so the bytes that were checked are the bytes that run, even if the
// path is replaced in between: there is no time-of-check/time-of-use window
// for the executable itself. For a "#!" script the script's bytes are checked
// this way; its interpreter is resolved by the kernel from the "#!" line, so
// the interpreter must be allow-listed too and is checked by path just before
// the exec (a narrow window remains for the interpreter only). Shared
// libraries the executable loads are not checked. On other platforms the file
// is hashed by path immediately before exec, which leaves a short window;
// DESIGN §6.9 keeps command probes off production-class hosts unless policy
// says otherwise.
package probe
