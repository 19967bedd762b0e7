-- Drill runs submitted to the server and waiting for an approval (DESIGN
-- §6.5), so that a restarted server still knows them. Started runs live in
-- runs; a submission keeps the id the submitter was given.

-- +goose Up
CREATE TABLE run_submissions (
	id           TEXT PRIMARY KEY,
	state        TEXT NOT NULL,
	file_name    TEXT NOT NULL,
	drill        BLOB NOT NULL,
	drill_sha256 TEXT NOT NULL,
	submitter    TEXT NOT NULL, -- the principal, JSON
	submitted_at TEXT NOT NULL,
	run_id       TEXT NOT NULL DEFAULT '',
	reasons      TEXT NOT NULL DEFAULT '[]',
	updated_at   TEXT NOT NULL
);
CREATE INDEX run_submissions_state ON run_submissions (state);

-- +goose Down
DROP TABLE run_submissions;
