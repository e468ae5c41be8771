-- Person files: repérage, funnel, situation, the follow-up group, consent, journal.
-- Dates a user types (met on, birth date…) are 'YYYY-MM-DD' text on both backends; instants are
-- timestamps bound by the application. Health data (RQTH) lives in its own table, read only
-- through the use case that checks the explicit permission. There is no NIR column, by design.

CREATE TABLE persons (
    id INTEGER PRIMARY KEY,
    territory_id BIGINT NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL DEFAULT '',
    folded_name TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    address TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    commune_insee TEXT,
    neighbourhood TEXT NOT NULL DEFAULT '',
    qpv_code TEXT,
    qpv_millesime INTEGER,
    qpv_confidence TEXT,
    qpv_checked_at TEXT,
    channel TEXT NOT NULL,
    place TEXT NOT NULL DEFAULT '',
    met_on TEXT NOT NULL,
    met_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    needs TEXT NOT NULL DEFAULT '',
    need_fields TEXT NOT NULL DEFAULT '',
    agrees_recontact BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    contacted_on TEXT,
    accompanied_on TEXT,
    exited_on TEXT,
    exit_reason TEXT,
    last_contact_on TEXT,
    birth_date TEXT,
    sex TEXT,
    single_parent BOOLEAN,
    children_under_12 INTEGER,
    ft_registered BOOLEAN,
    ft_since TEXT,
    brsa BOOLEAN,
    cej_pacea BOOLEAN,
    qualification TEXT,
    languages TEXT NOT NULL DEFAULT '',
    driving_licence BOOLEAN,
    vehicle BOOLEAN,
    merged_into BIGINT REFERENCES persons (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX persons_territory_idx ON persons (territory_id, status);
CREATE INDEX persons_folded_name_idx ON persons (territory_id, folded_name);

CREATE TABLE person_health (
    person_id BIGINT PRIMARY KEY NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    rqth BOOLEAN,
    rqth_until TEXT,
    updated_at TEXT NOT NULL,
    updated_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE person_consents (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    given_on TEXT NOT NULL,
    method TEXT NOT NULL,
    purposes TEXT NOT NULL,
    organisations TEXT NOT NULL,
    recorded_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    recorded_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX person_consents_person_idx ON person_consents (person_id);

CREATE TABLE person_members (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organisation_id BIGINT REFERENCES organisations (id) ON DELETE SET NULL,
    is_referent BOOLEAN NOT NULL,
    health_access BOOLEAN NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    end_reason TEXT,
    added_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX person_members_user_idx ON person_members (user_id, ended_at);
CREATE INDEX person_members_person_idx ON person_members (person_id);

CREATE TABLE person_journal (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    occurred_on TEXT NOT NULL,
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    channel TEXT,
    outcome TEXT,
    body TEXT NOT NULL,
    visibility TEXT NOT NULL
);
CREATE INDEX person_journal_person_idx ON person_journal (person_id, at);
