-- Webhooks of orientation events (docs/api.md, « Webhooks »): a territory's coordinators give a
-- partner organisation's information system an address; each change of an orientation that
-- organisation receives or sends is delivered there, signed with a secret derived from the
-- instance key and this row's nonce (never stored), through the job queue.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    territory_id BIGINT NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    -- Random; the signing secret is derived from it and the instance key.
    nonce TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    disabled_at TEXT
);
CREATE INDEX webhooks_target_idx ON webhooks (territory_id, organisation_id);

-- One delivery of one orientation event to one webhook, with its last attempt. It holds what it
-- posts (no personal data), so that an orientation erased with its person's file is still
-- announced (the cancellation) to the partners' systems.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id BIGINT REFERENCES orientation_events (id) ON DELETE SET NULL,
    orientation_id BIGINT NOT NULL,
    territory_id BIGINT NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    -- The status the orientation reached (domain::orientation::Status), and when.
    to_status TEXT NOT NULL,
    event_at TEXT NOT NULL,
    -- The webhook's organisation receives the orientation (else it sent it).
    receives BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    -- The HTTP status of the last attempt; null when no answer came.
    last_status INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    delivered_at TEXT,
    CONSTRAINT webhook_deliveries_once UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);
CREATE INDEX webhook_deliveries_orientation_idx ON webhook_deliveries (orientation_id);
CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at);
