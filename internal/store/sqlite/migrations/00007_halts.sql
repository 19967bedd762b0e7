-- Halts in force (DESIGN §6.3): a restarted server keeps blocking new work
-- in a halted scope until someone resumes it. The server acts on a halt
-- before it writes it here, so a halt works while the database is down.

-- +goose Up
CREATE TABLE halts (
	system      TEXT NOT NULL DEFAULT '',
	environment TEXT NOT NULL DEFAULT '',
	since       TEXT NOT NULL,
	by_id       TEXT NOT NULL,
	by_name     TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (system, environment)
);

-- +goose Down
DROP TABLE halts;
