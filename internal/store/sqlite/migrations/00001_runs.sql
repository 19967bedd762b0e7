-- Runs, their event timelines, probe samples and reports (issue 6).
-- Timestamps are TEXT in bulwark.TimeLayout (UTC, nanoseconds, fixed width),
-- so text order is time order; spans are INTEGER nanoseconds; NULL means
-- "not detected".

-- +goose Up
CREATE TABLE runs (
	id                 TEXT PRIMARY KEY,
	drill_name         TEXT NOT NULL,
	system             TEXT NOT NULL DEFAULT '',
	environment        TEXT NOT NULL DEFAULT '',
	type               TEXT NOT NULL DEFAULT '',
	risk               TEXT NOT NULL DEFAULT '',
	owner              TEXT NOT NULL DEFAULT '',
	ticket             TEXT NOT NULL DEFAULT '',
	drill_sha256       TEXT NOT NULL DEFAULT '',
	seed               INTEGER NOT NULL DEFAULT 0,
	runner_host        TEXT NOT NULL DEFAULT '',
	runner_pid         INTEGER NOT NULL DEFAULT 0,
	runner_pid_start   INTEGER NOT NULL DEFAULT 0,
	state              TEXT NOT NULL CHECK (state IN ('pending', 'running', 'recovering', 'finished')),
	verdict            TEXT NOT NULL DEFAULT '' CHECK (verdict IN ('', 'passed', 'failed', 'aborted', 'error')),
	reason             TEXT NOT NULL DEFAULT '',
	created_at         TEXT NOT NULL,
	updated_at         TEXT NOT NULL,
	started_at         TEXT,
	ended_at           TEXT,
	hosts              TEXT NOT NULL DEFAULT '[]',
	report_paths       TEXT NOT NULL DEFAULT '{}',
	last_seq           INTEGER NOT NULL DEFAULT 0,
	-- run-level measures (contract 4)
	t_active           TEXT,
	t_effect           TEXT,
	t_alert            TEXT,
	t_ack              TEXT,
	t_end              TEXT,
	t_restored         TEXT,
	time_to_effect_ns  INTEGER,
	mttd_ns            INTEGER,
	mtta_ns            INTEGER,
	mttr_ns            INTEGER,
	recovery_after_end_ns INTEGER,
	rto_ns             INTEGER,
	rpo_ns             INTEGER,
	mttd_source        TEXT NOT NULL DEFAULT '' CHECK (mttd_source IN ('', 'alert', 'probe'))
);
CREATE INDEX runs_created_at ON runs (created_at, id);
CREATE INDEX runs_unfinished ON runs (state) WHERE state <> 'finished';
CREATE INDEX runs_system ON runs (system, environment, created_at);

CREATE TABLE run_step_measures (
	run_id             TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	step               INTEGER NOT NULL,
	name               TEXT NOT NULL DEFAULT '',
	t_active           TEXT,
	t_effect           TEXT,
	t_alert            TEXT,
	t_ack              TEXT,
	t_end              TEXT,
	t_restored         TEXT,
	time_to_effect_ns  INTEGER,
	mttd_ns            INTEGER,
	mtta_ns            INTEGER,
	mttr_ns            INTEGER,
	recovery_after_end_ns INTEGER,
	rto_ns             INTEGER,
	rpo_ns             INTEGER,
	mttd_source        TEXT NOT NULL DEFAULT '' CHECK (mttd_source IN ('', 'alert', 'probe')),
	PRIMARY KEY (run_id, step)
);

CREATE TABLE run_events (
	run_id         TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	seq            INTEGER NOT NULL CHECK (seq >= 1),
	time           TEXT NOT NULL,
	type           TEXT NOT NULL,
	schema_version INTEGER NOT NULL,
	data           TEXT,
	PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

CREATE TABLE samples (
	run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	probe      TEXT NOT NULL,
	time       TEXT NOT NULL,
	phase      TEXT NOT NULL,
	ok         INTEGER NOT NULL,
	latency_ns INTEGER NOT NULL,
	value      REAL,
	err        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX samples_run_probe_time ON samples (run_id, probe, time);
CREATE INDEX samples_run_time ON samples (run_id, time);

CREATE TABLE reports (
	run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	format     TEXT NOT NULL CHECK (format IN ('json', 'md', 'html', 'junit')),
	lang       TEXT NOT NULL,
	body       BLOB NOT NULL,
	path       TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	PRIMARY KEY (run_id, format, lang)
);

-- +goose Down
DROP TABLE reports;
DROP TABLE samples;
DROP TABLE run_events;
DROP TABLE run_step_measures;
DROP TABLE runs;
