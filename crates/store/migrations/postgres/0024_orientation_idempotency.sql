-- An orientation sent with an idempotency key (docs/api.md, « Envoyer deux fois ») : a partner's
-- system that sends again after a lost answer, or a double click on the form, finds the
-- orientation of the first request instead of making a second one. The key is the sender's
-- (unique per sender); the fingerprint, a SHA-256 of what was sent, tells a true repetition from
-- another request that reuses the key.
ALTER TABLE orientations ADD COLUMN idempotency_key TEXT;
ALTER TABLE orientations ADD COLUMN idempotency_fingerprint TEXT;
CREATE UNIQUE INDEX orientations_idempotency_idx ON orientations (sender_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
