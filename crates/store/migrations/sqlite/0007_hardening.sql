-- Hardening: password-reset requests are throttled per account and per client address.
CREATE TABLE reset_requests (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX reset_requests_email_idx ON reset_requests (email, at);
CREATE INDEX reset_requests_ip_idx ON reset_requests (client_ip, at);

-- A professional membership given through a territory's invitation opens that territory only:
-- existing ones learn their territory from the invitation that created them.
UPDATE memberships SET territory_id = (
    SELECT i.territory_id FROM invitations i JOIN users u ON u.email = i.email
    WHERE u.id = memberships.user_id AND i.role = 'professional' AND i.accepted_at IS NOT NULL
      AND i.organisation_id = memberships.organisation_id AND i.territory_id IS NOT NULL
    ORDER BY i.id LIMIT 1)
WHERE role = 'professional' AND territory_id IS NULL AND EXISTS (
    SELECT 1 FROM invitations i JOIN users u ON u.email = i.email
    WHERE u.id = memberships.user_id AND i.role = 'professional' AND i.accepted_at IS NOT NULL
      AND i.organisation_id = memberships.organisation_id AND i.territory_id IS NOT NULL);

-- The « Santé / handicap » need is health data: it lives with the RQTH behind the health gate,
-- with its own free text. `persons.need_fields` keeps only what the whole group may see; the
-- référent may share there the existence of a health need (never its text).
ALTER TABLE person_health ADD COLUMN need BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE person_health ADD COLUMN need_note TEXT NOT NULL DEFAULT '';
ALTER TABLE person_health ADD COLUMN need_shared BOOLEAN NOT NULL DEFAULT FALSE;
INSERT INTO person_health (person_id, need, updated_at)
    SELECT id, TRUE, updated_at FROM persons WHERE need_fields LIKE '%|sante-handicap|%'
    ON CONFLICT (person_id) DO UPDATE SET need = TRUE;
UPDATE persons SET need_fields = REPLACE(need_fields, '|sante-handicap|', '|')
    WHERE need_fields LIKE '%|sante-handicap|%';
UPDATE persons SET need_fields = '' WHERE need_fields = '|';
