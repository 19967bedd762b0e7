-- The audit log (issue 7 item 8, DESIGN §6.6): an append-only hash chain
-- and its signed checkpoints. See internal/audit for the hash definition.
-- Times are TEXT in bulwark.TimeLayout; hashes are lowercase hex.

-- +goose Up
CREATE TABLE audit_entries (
	seq            INTEGER PRIMARY KEY CHECK (seq >= 1),
	id             TEXT NOT NULL UNIQUE,
	time           TEXT NOT NULL,
	actor_id       TEXT NOT NULL,
	actor_kind     TEXT NOT NULL,
	action         TEXT NOT NULL,
	resource       TEXT NOT NULL,
	request_digest TEXT NOT NULL,
	result_status  TEXT NOT NULL,
	result_reason  TEXT NOT NULL,
	alg            TEXT NOT NULL,
	prev_hash      TEXT NOT NULL,
	hash           TEXT NOT NULL
);

CREATE TABLE audit_checkpoints (
	id        INTEGER PRIMARY KEY,
	seq       INTEGER NOT NULL,
	hash      TEXT NOT NULL,
	time      TEXT NOT NULL,
	key_id    TEXT NOT NULL,
	signature TEXT NOT NULL
);

-- Entries and checkpoints are never changed or deleted through SQL. This
-- is a guard against mistakes, not against an attacker with the file: the
-- hash chain and the exported checkpoints are what detect tampering.
-- +goose StatementBegin
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
-- +goose StatementEnd

-- +goose Down
-- The audit log is kept: no down migration drops it.
