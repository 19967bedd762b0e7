-- People, automation accounts, API tokens, sessions, TOTP secrets and role
-- bindings (issue 7 item 4, DESIGN §11). Secrets are never stored: tokens and
-- session ids as SHA-256 hex, passwords as argon2id PHC strings, TOTP secrets
-- as the auth service gives them (AES-GCM sealed when it has a key).
-- Timestamps are TEXT in bulwark.TimeLayout.

-- +goose Up
CREATE TABLE auth_users (
	id             TEXT PRIMARY KEY,
	name           TEXT NOT NULL UNIQUE CHECK (name <> ''),
	display_name   TEXT NOT NULL DEFAULT '',
	email          TEXT NOT NULL DEFAULT '',
	password_hash  TEXT NOT NULL DEFAULT '',
	oidc_issuer    TEXT NOT NULL DEFAULT '',
	oidc_subject   TEXT NOT NULL DEFAULT '',
	disabled       INTEGER NOT NULL DEFAULT 0,
	created_at     TEXT NOT NULL,
	updated_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX auth_users_oidc ON auth_users (oidc_issuer, oidc_subject) WHERE oidc_issuer <> '';

CREATE TABLE auth_totp (
	user_id    TEXT PRIMARY KEY REFERENCES auth_users (id) ON DELETE CASCADE,
	secret     BLOB NOT NULL,
	confirmed  INTEGER NOT NULL DEFAULT 0,
	last_step  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE auth_accounts (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL CHECK (name <> ''),
	owner_id    TEXT NOT NULL REFERENCES auth_users (id),
	created_at  TEXT NOT NULL,
	UNIQUE (owner_id, name)
);

CREATE TABLE auth_tokens (
	id            TEXT PRIMARY KEY,
	hash          TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL DEFAULT '',
	subject_id    TEXT NOT NULL,
	subject_kind  TEXT NOT NULL CHECK (subject_kind IN ('user', 'account')),
	owner_id      TEXT NOT NULL REFERENCES auth_users (id),
	created_at    TEXT NOT NULL,
	expires_at    TEXT,
	revoked_at    TEXT
);
CREATE INDEX auth_tokens_owner ON auth_tokens (owner_id, created_at);

CREATE TABLE auth_sessions (
	hash        TEXT PRIMARY KEY,
	user_id     TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
	created_at  TEXT NOT NULL,
	expires_at  TEXT NOT NULL
);
CREATE INDEX auth_sessions_expiry ON auth_sessions (expires_at);

CREATE TABLE auth_role_bindings (
	id          TEXT PRIMARY KEY,
	subject     TEXT NOT NULL,
	role        TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'approver', 'admin')),
	scope_kind  TEXT NOT NULL CHECK (scope_kind IN ('global', 'system', 'team', 'environment')),
	scope_name  TEXT NOT NULL DEFAULT '',
	created_at  TEXT NOT NULL,
	UNIQUE (subject, role, scope_kind, scope_name)
);

-- +goose Down
DROP TABLE auth_role_bindings;
DROP TABLE auth_sessions;
DROP TABLE auth_tokens;
DROP TABLE auth_accounts;
DROP TABLE auth_totp;
DROP TABLE auth_users;
