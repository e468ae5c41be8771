-- Groundwork (docs/design.md, « Codes »): every code column accepts only the codes of its list
-- in the domain (`codes!`), consent purposes and organisations and a person's needs become rows
-- of their own tables (the `|a|b|` texts are carried over, then dropped), and each territory has
-- a time zone from the tz database (overseas territories live in their own).
-- SQLite cannot add a CHECK to an existing table without rebuilding it: the same rule is
-- enforced by triggers, which refuse the row with the constraint's name.

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
CREATE TRIGGER persons_status_check_insert BEFORE INSERT ON persons
    WHEN NEW.status IS NULL OR NEW.status NOT IN ('repere', 'contacte', 'en-accompagnement', 'sorti')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: persons_status_check'); END;
CREATE TRIGGER persons_status_check_update BEFORE UPDATE OF status ON persons
    WHEN NEW.status IS NULL OR NEW.status NOT IN ('repere', 'contacte', 'en-accompagnement', 'sorti')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: persons_status_check'); END;
CREATE TRIGGER persons_channel_check_insert BEFORE INSERT ON persons
    WHEN NEW.channel IS NULL OR NEW.channel NOT IN ('permanence-bailleur', 'association', 'adulte-relais', 'evenement', 'partenaire', 'demarche-spontanee', 'autre')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: persons_channel_check'); END;
CREATE TRIGGER persons_channel_check_update BEFORE UPDATE OF channel ON persons
    WHEN NEW.channel IS NULL OR NEW.channel NOT IN ('permanence-bailleur', 'association', 'adulte-relais', 'evenement', 'partenaire', 'demarche-spontanee', 'autre')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: persons_channel_check'); END;
CREATE TRIGGER persons_exit_reason_check_insert BEFORE INSERT ON persons
    WHEN NEW.exit_reason IS NOT NULL AND NEW.exit_reason NOT IN ('emploi-durable', 'emploi-transition', 'iae', 'alternance', 'formation', 'demenagement', 'abandon', 'autre')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: persons_exit_reason_check'); END;
CREATE TRIGGER persons_exit_reason_check_update BEFORE UPDATE OF exit_reason ON persons
    WHEN NEW.exit_reason IS NOT NULL AND NEW.exit_reason NOT IN ('emploi-durable', 'emploi-transition', 'iae', 'alternance', 'formation', 'demenagement', 'abandon', 'autre')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: persons_exit_reason_check'); END;
CREATE TRIGGER persons_sex_check_insert BEFORE INSERT ON persons
    WHEN NEW.sex IS NOT NULL AND NEW.sex NOT IN ('femme', 'homme', 'non-precise')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: persons_sex_check'); END;
CREATE TRIGGER persons_sex_check_update BEFORE UPDATE OF sex ON persons
    WHEN NEW.sex IS NOT NULL AND NEW.sex NOT IN ('femme', 'homme', 'non-precise')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: persons_sex_check'); END;
CREATE TRIGGER persons_qualification_check_insert BEFORE INSERT ON persons
    WHEN NEW.qualification IS NOT NULL AND NEW.qualification NOT IN ('infra-3', '3', '4', '5', '6+')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: persons_qualification_check'); END;
CREATE TRIGGER persons_qualification_check_update BEFORE UPDATE OF qualification ON persons
    WHEN NEW.qualification IS NOT NULL AND NEW.qualification NOT IN ('infra-3', '3', '4', '5', '6+')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: persons_qualification_check'); END;
CREATE TRIGGER person_consents_method_check_insert BEFORE INSERT ON person_consents
    WHEN NEW.method IS NULL OR NEW.method NOT IN ('ecrit', 'oral', 'numerique')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: person_consents_method_check'); END;
CREATE TRIGGER person_consents_method_check_update BEFORE UPDATE OF method ON person_consents
    WHEN NEW.method IS NULL OR NEW.method NOT IN ('ecrit', 'oral', 'numerique')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: person_consents_method_check'); END;
CREATE TRIGGER person_members_end_reason_check_insert BEFORE INSERT ON person_members
    WHEN NEW.end_reason IS NOT NULL AND NEW.end_reason NOT IN ('fin-intervention', 'changement-referent', 'depart', 'retrait-consentement', 'sortie', 'fusion')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: person_members_end_reason_check'); END;
CREATE TRIGGER person_members_end_reason_check_update BEFORE UPDATE OF end_reason ON person_members
    WHEN NEW.end_reason IS NOT NULL AND NEW.end_reason NOT IN ('fin-intervention', 'changement-referent', 'depart', 'retrait-consentement', 'sortie', 'fusion')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: person_members_end_reason_check'); END;
CREATE TRIGGER person_journal_kind_check_insert BEFORE INSERT ON person_journal
    WHEN NEW.kind IS NULL OR NEW.kind NOT IN ('note', 'contact')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: person_journal_kind_check'); END;
CREATE TRIGGER person_journal_kind_check_update BEFORE UPDATE OF kind ON person_journal
    WHEN NEW.kind IS NULL OR NEW.kind NOT IN ('note', 'contact')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: person_journal_kind_check'); END;
CREATE TRIGGER person_journal_channel_check_insert BEFORE INSERT ON person_journal
    WHEN NEW.channel IS NOT NULL AND NEW.channel NOT IN ('entretien', 'telephone', 'sms', 'courriel', 'visite', 'atelier')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: person_journal_channel_check'); END;
CREATE TRIGGER person_journal_channel_check_update BEFORE UPDATE OF channel ON person_journal
    WHEN NEW.channel IS NOT NULL AND NEW.channel NOT IN ('entretien', 'telephone', 'sms', 'courriel', 'visite', 'atelier')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: person_journal_channel_check'); END;
CREATE TRIGGER person_journal_outcome_check_insert BEFORE INSERT ON person_journal
    WHEN NEW.outcome IS NOT NULL AND NEW.outcome NOT IN ('joint', 'non-joint', 'rendez-vous', 'absent')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: person_journal_outcome_check'); END;
CREATE TRIGGER person_journal_outcome_check_update BEFORE UPDATE OF outcome ON person_journal
    WHEN NEW.outcome IS NOT NULL AND NEW.outcome NOT IN ('joint', 'non-joint', 'rendez-vous', 'absent')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: person_journal_outcome_check'); END;
CREATE TRIGGER person_journal_visibility_check_insert BEFORE INSERT ON person_journal
    WHEN NEW.visibility IS NULL OR NEW.visibility NOT IN ('groupe', 'referent', 'sante')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: person_journal_visibility_check'); END;
CREATE TRIGGER person_journal_visibility_check_update BEFORE UPDATE OF visibility ON person_journal
    WHEN NEW.visibility IS NULL OR NEW.visibility NOT IN ('groupe', 'referent', 'sante')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: person_journal_visibility_check'); END;
CREATE TRIGGER memberships_role_check_insert BEFORE INSERT ON memberships
    WHEN NEW.role IS NULL OR NEW.role NOT IN ('admin', 'coordinator', 'professional', 'pilot')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: memberships_role_check'); END;
CREATE TRIGGER memberships_role_check_update BEFORE UPDATE OF role ON memberships
    WHEN NEW.role IS NULL OR NEW.role NOT IN ('admin', 'coordinator', 'professional', 'pilot')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: memberships_role_check'); END;
CREATE TRIGGER invitations_role_check_insert BEFORE INSERT ON invitations
    WHEN NEW.role IS NULL OR NEW.role NOT IN ('admin', 'coordinator', 'professional', 'pilot')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: invitations_role_check'); END;
CREATE TRIGGER invitations_role_check_update BEFORE UPDATE OF role ON invitations
    WHEN NEW.role IS NULL OR NEW.role NOT IN ('admin', 'coordinator', 'professional', 'pilot')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: invitations_role_check'); END;
CREATE TRIGGER organisations_kind_check_insert BEFORE INSERT ON organisations
    WHEN NEW.kind IS NULL OR NEW.kind NOT IN ('france_travail', 'mission_locale', 'cap_emploi', 'plie', 'conseil_departemental', 'ccas', 'caf', 'collectivite', 'centre_social', 'association', 'bailleur_social', 'siae', 'geiq', 'e2c', 'epide', 'organisme_formation', 'employeur', 'etat', 'anct', 'autre')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: organisations_kind_check'); END;
CREATE TRIGGER organisations_kind_check_update BEFORE UPDATE OF kind ON organisations
    WHEN NEW.kind IS NULL OR NEW.kind NOT IN ('france_travail', 'mission_locale', 'cap_emploi', 'plie', 'conseil_departemental', 'ccas', 'caf', 'collectivite', 'centre_social', 'association', 'bailleur_social', 'siae', 'geiq', 'e2c', 'epide', 'organisme_formation', 'employeur', 'etat', 'anct', 'autre')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: organisations_kind_check'); END;
CREATE TRIGGER territories_status_check_insert BEFORE INSERT ON territories
    WHEN NEW.status IS NULL OR NEW.status NOT IN ('preparation', 'active', 'closed')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: territories_status_check'); END;
CREATE TRIGGER territories_status_check_update BEFORE UPDATE OF status ON territories
    WHEN NEW.status IS NULL OR NEW.status NOT IN ('preparation', 'active', 'closed')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: territories_status_check'); END;

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
