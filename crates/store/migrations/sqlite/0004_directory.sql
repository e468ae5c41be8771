-- Directory of relays (data·inclusion structures and services of each territory), the
-- thematique → field mapping overrides, and the knowledge base « Les 8 champs d'action ».
-- `record` holds the data·inclusion record as JSON (what export writes back); the other
-- columns are derived from it on every write, for search. Lists are stored `|a|b|`;
-- `nom_sort` is the folded name, compared byte by byte on both backends.

CREATE TABLE directory_structures (
    id INTEGER PRIMARY KEY,
    territory_id BIGINT NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    organisation_id BIGINT REFERENCES organisations (id) ON DELETE SET NULL,
    source TEXT NOT NULL,
    record_id TEXT NOT NULL,
    nom TEXT NOT NULL,
    record TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT directory_structures_key UNIQUE (territory_id, source, record_id)
);
CREATE INDEX directory_structures_organisation_idx ON directory_structures (organisation_id);

CREATE TABLE directory_services (
    id INTEGER PRIMARY KEY,
    territory_id BIGINT NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    structure_id BIGINT NOT NULL REFERENCES directory_structures (id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    record_id TEXT NOT NULL,
    record TEXT NOT NULL,
    nom TEXT NOT NULL,
    kind TEXT,
    thematiques TEXT NOT NULL DEFAULT '',
    publics TEXT NOT NULL DEFAULT '',
    frais TEXT,
    modes_accueil TEXT NOT NULL DEFAULT '',
    zone TEXT,
    longitude REAL,
    latitude REAL,
    search_text TEXT NOT NULL,
    nom_sort TEXT NOT NULL,
    date_maj TEXT NOT NULL,
    offer TEXT NOT NULL DEFAULT 'droit-commun',
    funder TEXT,
    amount_euros BIGINT,
    period_start TEXT,
    period_end TEXT,
    capacity BIGINT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT directory_services_key UNIQUE (territory_id, source, record_id)
);
CREATE INDEX directory_services_territory_idx ON directory_services (territory_id, nom_sort, id);
CREATE INDEX directory_services_structure_idx ON directory_services (structure_id);

CREATE TABLE directory_service_changes (
    id INTEGER PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES directory_services (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    origin TEXT NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX directory_service_changes_service_idx ON directory_service_changes (service_id, at);

CREATE TABLE thematique_fields (
    thematique TEXT PRIMARY KEY NOT NULL,
    fields TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE field_constats (
    field TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE inspiring_actions (
    id INTEGER PRIMARY KEY,
    field TEXT NOT NULL,
    territory_id BIGINT REFERENCES territories (id) ON DELETE SET NULL,
    territory_name TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    partners TEXT NOT NULL DEFAULT '',
    results TEXT NOT NULL DEFAULT '',
    contact TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX inspiring_actions_field_idx ON inspiring_actions (field, updated_at);

CREATE TABLE commune_positions (
    insee TEXT PRIMARY KEY NOT NULL,
    longitude REAL NOT NULL,
    latitude REAL NOT NULL,
    source TEXT NOT NULL
);
