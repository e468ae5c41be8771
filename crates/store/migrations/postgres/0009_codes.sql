-- Groundwork (docs/design.md, « Codes »): every code column accepts only the codes of its list
-- in the domain (`codes!`), consent purposes and organisations and a person's needs become rows
-- of their own tables (the `|a|b|` texts are carried over, then dropped), and each territory has
-- a time zone from the tz database (overseas territories live in their own).

ALTER TABLE territories ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Europe/Paris'
    CONSTRAINT territories_time_zone_check CHECK (time_zone IN ('Europe/Paris', 'America/Guadeloupe', 'America/Martinique', 'America/Cayenne', 'Indian/Reunion', 'Indian/Mayotte'));

-- Territories whose communes are overseas take the zone of their département.
UPDATE territories SET time_zone = CASE (
        SELECT SUBSTR(MIN(c.insee_code), 1, 3) FROM territory_communes c WHERE c.territory_id = territories.id)
    WHEN '971' THEN 'America/Guadeloupe'
    WHEN '972' THEN 'America/Martinique'
    WHEN '973' THEN 'America/Cayenne'
    WHEN '974' THEN 'Indian/Reunion'
    WHEN '976' THEN 'Indian/Mayotte'
    ELSE 'Europe/Paris' END;

-- Codes.
ALTER TABLE persons ADD CONSTRAINT persons_status_check CHECK (status IN ('repere', 'contacte', 'en-accompagnement', 'sorti'));
ALTER TABLE persons ADD CONSTRAINT persons_channel_check CHECK (channel IN ('permanence-bailleur', 'association', 'adulte-relais', 'evenement', 'partenaire', 'demarche-spontanee', 'autre'));
ALTER TABLE persons ADD CONSTRAINT persons_exit_reason_check CHECK (exit_reason IN ('emploi-durable', 'emploi-transition', 'iae', 'alternance', 'formation', 'demenagement', 'abandon', 'autre'));
ALTER TABLE persons ADD CONSTRAINT persons_sex_check CHECK (sex IN ('femme', 'homme', 'non-precise'));
ALTER TABLE persons ADD CONSTRAINT persons_qualification_check CHECK (qualification IN ('infra-3', '3', '4', '5', '6+'));
ALTER TABLE person_consents ADD CONSTRAINT person_consents_method_check CHECK (method IN ('ecrit', 'oral', 'numerique'));
ALTER TABLE person_members ADD CONSTRAINT person_members_end_reason_check CHECK (end_reason IN ('fin-intervention', 'changement-referent', 'depart', 'retrait-consentement', 'sortie', 'fusion'));
ALTER TABLE person_journal ADD CONSTRAINT person_journal_kind_check CHECK (kind IN ('note', 'contact'));
ALTER TABLE person_journal ADD CONSTRAINT person_journal_channel_check CHECK (channel IN ('entretien', 'telephone', 'sms', 'courriel', 'visite', 'atelier'));
ALTER TABLE person_journal ADD CONSTRAINT person_journal_outcome_check CHECK (outcome IN ('joint', 'non-joint', 'rendez-vous', 'absent'));
ALTER TABLE person_journal ADD CONSTRAINT person_journal_visibility_check CHECK (visibility IN ('groupe', 'referent', 'sante'));
ALTER TABLE memberships ADD CONSTRAINT memberships_role_check CHECK (role IN ('admin', 'coordinator', 'professional', 'pilot'));
ALTER TABLE invitations ADD CONSTRAINT invitations_role_check CHECK (role IN ('admin', 'coordinator', 'professional', 'pilot'));
ALTER TABLE organisations ADD CONSTRAINT organisations_kind_check CHECK (kind IN ('france_travail', 'mission_locale', 'cap_emploi', 'plie', 'conseil_departemental', 'ccas', 'caf', 'collectivite', 'centre_social', 'association', 'bailleur_social', 'siae', 'geiq', 'e2c', 'epide', 'organisme_formation', 'employeur', 'etat', 'anct', 'autre'));
ALTER TABLE territories ADD CONSTRAINT territories_status_check CHECK (status IN ('preparation', 'active', 'closed'));

CREATE TABLE person_consent_purposes (
    consent_id BIGINT NOT NULL REFERENCES person_consents (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CONSTRAINT person_consent_purposes_purpose_check CHECK (purpose IN ('accompagnement', 'partage', 'recontact')),
    PRIMARY KEY (consent_id, purpose)
);

CREATE TABLE person_consent_organisations (
    consent_id BIGINT NOT NULL REFERENCES person_consents (id) ON DELETE CASCADE,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    PRIMARY KEY (consent_id, organisation_id)
);
CREATE INDEX person_consent_organisations_org_idx ON person_consent_organisations (organisation_id);

-- What the whole follow-up group may see of a person's needs (the health need only when the
-- référent shared it; its text stays in person_health).
CREATE TABLE person_needs (
    person_id BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    field TEXT NOT NULL CONSTRAINT person_needs_field_check CHECK (field IN ('reseau-professionnel', 'savoirs-de-base', 'competences-numeriques', 'contraintes-familiales', 'mobilite', 'logement', 'precarite-financiere', 'sante-handicap')),
    PRIMARY KEY (person_id, field)
);
CREATE INDEX person_needs_field_idx ON person_needs (field, person_id);

INSERT INTO person_consent_purposes (consent_id, purpose)
    SELECT k.id, v.column1 FROM person_consents k
    JOIN (VALUES ('accompagnement'), ('partage'), ('recontact')) AS v ON k.purposes LIKE '%|' || v.column1 || '|%';
INSERT INTO person_consent_organisations (consent_id, organisation_id)
    SELECT k.id, o.id FROM person_consents k
    JOIN organisations o ON k.organisations LIKE '%|' || o.id || '|%';
INSERT INTO person_needs (person_id, field)
    SELECT p.id, v.column1 FROM persons p
    JOIN (VALUES ('reseau-professionnel'), ('savoirs-de-base'), ('competences-numeriques'), ('contraintes-familiales'), ('mobilite'), ('logement'), ('precarite-financiere'), ('sante-handicap')) AS v ON p.need_fields LIKE '%|' || v.column1 || '|%';

ALTER TABLE person_consents DROP COLUMN purposes;
ALTER TABLE person_consents DROP COLUMN organisations;
ALTER TABLE persons DROP COLUMN need_fields;
