-- Background work as rows (docs/jobs.md): enqueued in the transaction of the change that causes
-- it, claimed with a lease so that a dead worker's job runs again, retried with growing delays
-- then left « en-echec » with its last error. A de-duplication key makes periodic work
-- idempotent across instances.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    dedup_key TEXT,
    state TEXT NOT NULL DEFAULT 'en-attente'
        CONSTRAINT jobs_state_check CHECK (state IN ('en-attente', 'en-cours', 'fait', 'en-echec')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 5,
    run_at TEXT NOT NULL,
    locked_until TEXT,
    locked_by TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE UNIQUE INDEX jobs_dedup_key ON jobs (dedup_key);
CREATE INDEX jobs_due_idx ON jobs (state, run_at);
