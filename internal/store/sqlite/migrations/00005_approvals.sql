-- Approvals of production-class runs (issue 7 item 6, DESIGN §6.5).
-- Append-only: an approval is never updated; a changed drill file,
-- environment or ticket simply stops matching. Timestamps are TEXT in
-- bulwark.TimeLayout (UTC, nanoseconds, fixed width), so text order is time
-- order.

-- +goose Up
CREATE TABLE approvals (
	id             TEXT PRIMARY KEY,
	drill_sha256   TEXT NOT NULL CHECK (length(drill_sha256) = 64),
	environment    TEXT NOT NULL CHECK (environment <> ''),
	ticket         TEXT NOT NULL DEFAULT '',
	valid_from     TEXT NOT NULL,
	valid_until    TEXT NOT NULL,
	approver_id    TEXT NOT NULL,
	approver_name  TEXT NOT NULL DEFAULT '',
	approver_kind  TEXT NOT NULL CHECK (approver_kind = 'user'),
	approver_token TEXT NOT NULL DEFAULT '',
	submitter      TEXT NOT NULL CHECK (submitter <> approver_id),
	created_at     TEXT NOT NULL,
	CHECK (valid_until > valid_from)
);
CREATE INDEX approvals_binding ON approvals (drill_sha256, environment, ticket, created_at);

-- +goose Down
DROP TABLE approvals;
