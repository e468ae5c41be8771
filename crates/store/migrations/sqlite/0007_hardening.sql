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
