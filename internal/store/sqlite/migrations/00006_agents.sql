-- Agents enrolled with the agent gateway and the join tokens they enrol with
-- (issue 7). Join tokens are stored as the hex SHA-256 of their secret.

-- +goose Up
CREATE TABLE agent_join_tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    environment TEXT NOT NULL,
    zone        TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT,
    uses        INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE agents (
    id             TEXT PRIMARY KEY,
    hostname       TEXT NOT NULL,
    state_dir      TEXT NOT NULL DEFAULT '',
    instance_id    TEXT NOT NULL UNIQUE,
    labels         TEXT NOT NULL DEFAULT '{}',
    environment    TEXT NOT NULL,
    zone           TEXT NOT NULL DEFAULT '',
    join_token_id  TEXT NOT NULL DEFAULT '',
    cert_serial    TEXT NOT NULL DEFAULT '',
    cert_not_after TEXT,
    enrolled_at    TEXT NOT NULL,
    last_seen      TEXT,
    epoch          INTEGER NOT NULL DEFAULT 0,
    desired        TEXT NOT NULL DEFAULT '[]',
    revoked_at     TEXT
);

CREATE INDEX agents_hostname ON agents (hostname);

-- +goose Down
DROP TABLE agents;
DROP TABLE agent_join_tokens;
