-- API tokens of an organisation (docs/security.md, « Jetons d'API ») : made by a coordinator of a
-- territory for one of its partner organisations, so that the organisation's information system
-- does not depend on one employee's account. They act for that organisation in that territory
-- only, with the scopes that read or write no person (domain::api::ORGANISATION_SCOPES), and die
-- when the organisation stops being a partner of the territory. A personal token has neither.
ALTER TABLE api_tokens ADD COLUMN organisation_id BIGINT REFERENCES organisations (id) ON DELETE CASCADE;
ALTER TABLE api_tokens ADD COLUMN territory_id BIGINT REFERENCES territories (id) ON DELETE CASCADE;
CREATE INDEX api_tokens_territory_idx ON api_tokens (territory_id);
