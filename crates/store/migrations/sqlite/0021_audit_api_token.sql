-- Which API token made the request an audit row records, when a token did (docs/api.md): a
-- read through the API shows as such in the file's access log. No foreign key: the trail
-- outlives whatever it names.
ALTER TABLE audit_events ADD COLUMN api_token_id BIGINT;
