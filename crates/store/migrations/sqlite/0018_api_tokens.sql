-- Personal access tokens of the API (docs/security.md, « Jetons d'API »): stored as the
-- SHA-256 of the token, shown once; scoped, expiring, revocable. A token acts as its owner
-- with no more than its scopes.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- Space-separated scope codes (domain::ApiScope).
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT,
    CONSTRAINT api_tokens_hash_key UNIQUE (token_hash)
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- Requests per token and minute, shared by every instance: one upsert per API request.
CREATE TABLE api_request_counts (
    token_id BIGINT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    minute BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (token_id, minute)
);
