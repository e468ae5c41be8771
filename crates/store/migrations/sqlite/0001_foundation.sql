-- Foundation: accounts, sessions, organisations, territories, memberships, mail, audit.
-- Timestamps are RFC 3339 text in UTC, always bound by the application (never CURRENT_TIMESTAMP),
-- so that text comparison orders them.

CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    last_login_at TEXT,
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_email_idx ON login_failures (email, at);
CREATE INDEX login_failures_ip_idx ON login_failures (client_ip, at);

CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    siret TEXT,
    address TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    commune_insee TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT organisations_siret_key UNIQUE (siret)
);

CREATE TABLE territories (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    epci_siren TEXT,
    co_pilots TEXT NOT NULL DEFAULT '',
    starts_on DATE,
    ends_on DATE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT territories_slug_key UNIQUE (slug)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    active_territory_id BIGINT REFERENCES territories (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE territory_communes (
    territory_id BIGINT NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    insee_code TEXT NOT NULL,
    PRIMARY KEY (territory_id, insee_code)
);

CREATE TABLE territory_partners (
    territory_id BIGINT NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    added_at TEXT NOT NULL,
    added_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (territory_id, organisation_id)
);
CREATE INDEX territory_partners_organisation_idx ON territory_partners (organisation_id);

CREATE TABLE memberships (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    organisation_id BIGINT REFERENCES organisations (id) ON DELETE CASCADE,
    territory_id BIGINT REFERENCES territories (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    ended_at TEXT
);
CREATE INDEX memberships_user_idx ON memberships (user_id);
CREATE INDEX memberships_territory_idx ON memberships (territory_id);
CREATE INDEX memberships_organisation_idx ON memberships (organisation_id);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation_id BIGINT REFERENCES organisations (id) ON DELETE CASCADE,
    territory_id BIGINT REFERENCES territories (id) ON DELETE CASCADE,
    invited_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    accepted_at TEXT,
    revoked_at TEXT,
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX invitations_territory_idx ON invitations (territory_id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX outbox_created_idx ON outbox (created_at);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id BIGINT,
    territory_id BIGINT REFERENCES territories (id) ON DELETE SET NULL,
    detail TEXT NOT NULL DEFAULT '',
    client_ip TEXT
);
CREATE INDEX audit_events_at_idx ON audit_events (at);
CREATE INDEX audit_events_target_idx ON audit_events (target_kind, target_id);
