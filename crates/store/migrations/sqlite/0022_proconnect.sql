-- Sign-in with ProConnect (docs/security.md, « ProConnect ») : a sign-in under way, between the
-- redirection to the identity provider and its return. Its state is kept hashed (the browser
-- holds it in a short-lived cookie as well, so a return is accepted only in the browser that
-- left); the nonce and the PKCE verifier go with the authorization code to the provider. A
-- row is taken once, by the first return, and expires after ten minutes.
CREATE TABLE proconnect_logins (
    state_hash TEXT PRIMARY KEY NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    -- The local page to open once signed in.
    next_path TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX proconnect_logins_expires_idx ON proconnect_logins (expires_at);

-- A session opened through ProConnect keeps the ID token it was opened with: logging out sends
-- it back to the provider (id_token_hint), which ends the sign-in there too.
ALTER TABLE sessions ADD COLUMN proconnect_id_token TEXT;
