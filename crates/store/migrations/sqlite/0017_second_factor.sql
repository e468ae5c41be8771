-- A second factor for password sign-in (docs/security.md, « Double authentification »): a
-- TOTP secret per account (RFC 6238), sealed with the instance's key, confirmed by a first
-- code before it counts; single-use recovery codes, stored hashed; a territory may require
-- it of its coordinators. A session remembers when its second factor was checked.
CREATE TABLE second_factors (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The secret XOR a keystream derived from the instance's key and this nonce.
    sealed_secret BLOB NOT NULL,
    nonce TEXT NOT NULL,
    created_at TEXT NOT NULL,
    confirmed_at TEXT,
    -- The last 30-second step whose code was accepted: a code is never accepted twice.
    last_step BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id);

ALTER TABLE sessions ADD COLUMN second_factor_at TEXT;
ALTER TABLE territories ADD COLUMN second_factor_required BOOLEAN NOT NULL DEFAULT FALSE;
