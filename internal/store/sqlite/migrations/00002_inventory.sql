-- The inventory core (issue 7): environments, systems, deployment units and
-- hosts. Names are the keys users and drill files use; hosts have an id too,
-- because a hostname may be reused after a rebuild.

-- +goose Up
CREATE TABLE environments (
	name             TEXT PRIMARY KEY,
	production_class INTEGER NOT NULL DEFAULT 0 CHECK (production_class IN (0, 1)),
	description      TEXT NOT NULL DEFAULT '',
	updated_at       TEXT NOT NULL
);

CREATE TABLE systems (
	name       TEXT PRIMARY KEY,
	owner_team TEXT NOT NULL,
	tier       INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 4),
	title      TEXT NOT NULL DEFAULT '',
	updated_at TEXT NOT NULL
);

CREATE TABLE units (
	name       TEXT PRIMARY KEY,
	system     TEXT NOT NULL REFERENCES systems (name),
	updated_at TEXT NOT NULL
);

CREATE TABLE hosts (
	id          TEXT PRIMARY KEY,
	hostname    TEXT NOT NULL UNIQUE COLLATE NOCASE,
	system      TEXT NOT NULL REFERENCES systems (name),
	unit        TEXT NOT NULL REFERENCES units (name),
	environment TEXT NOT NULL REFERENCES environments (name),
	zone        TEXT NOT NULL DEFAULT '',
	role        TEXT NOT NULL DEFAULT '' CHECK (role IN ('', 'primary', 'standby')),
	labels      TEXT NOT NULL DEFAULT '{}',
	updated_at  TEXT NOT NULL
);
CREATE INDEX hosts_system ON hosts (system);
CREATE INDEX hosts_environment ON hosts (environment);

-- +goose Down
DROP TABLE hosts;
DROP TABLE units;
DROP TABLE systems;
DROP TABLE environments;
