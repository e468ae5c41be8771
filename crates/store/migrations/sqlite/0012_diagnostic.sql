-- The diagnostic of the eight fields, the professional project, the action plan and the
-- eligibility rules (docs/domain.md §4 and §9). A diagnostic is a draft until signed, and a
-- signed one is never changed: a new diagnostic is a new row. The santé-handicap field of a
-- diagnostic is health data: the store reads it only for callers the gate lets through.

-- Facts the eligibility rules ask about (NULL: not known), and the home position the QPV check
-- found (for distances to relays). AAH reveals a disability: it lives with the health data.
ALTER TABLE persons ADD COLUMN student BOOLEAN;
ALTER TABLE persons ADD COLUMN in_training BOOLEAN;
ALTER TABLE persons ADD COLUMN ass BOOLEAN;
ALTER TABLE persons ADD COLUMN ase_leaver BOOLEAN;
ALTER TABLE persons ADD COLUMN homeless BOOLEAN;
ALTER TABLE persons ADD COLUMN refugee BOOLEAN;
ALTER TABLE persons ADD COLUMN detention_leaver BOOLEAN;
ALTER TABLE persons ADD COLUMN frr_resident BOOLEAN;
ALTER TABLE persons ADD COLUMN fle_below_a1 BOOLEAN;
ALTER TABLE persons ADD COLUMN job_or_training_start BOOLEAN;
ALTER TABLE persons ADD COLUMN youngest_child_born_on TEXT;
ALTER TABLE persons ADD COLUMN home_longitude REAL;
ALTER TABLE persons ADD COLUMN home_latitude REAL;
ALTER TABLE person_health ADD COLUMN aah BOOLEAN;

-- The situations one may tick per field: shipped below, edited by administrators (a situation
-- used by a diagnostic is deactivated, never deleted).
CREATE TABLE diagnostic_situations (
    id INTEGER PRIMARY KEY,
    field TEXT NOT NULL CONSTRAINT diagnostic_situations_field_check CHECK (field IN ('reseau-professionnel', 'savoirs-de-base', 'competences-numeriques', 'contraintes-familiales', 'mobilite', 'logement', 'precarite-financiere', 'sante-handicap')),
    label TEXT NOT NULL,
    position INTEGER NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 1,
    updated_at TEXT,
    updated_by INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX diagnostic_situations_field_idx ON diagnostic_situations (field, position);

CREATE TABLE diagnostics (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    status TEXT NOT NULL CONSTRAINT diagnostics_status_check CHECK (status IN ('brouillon', 'signe')),
    held_on TEXT NOT NULL,
    author_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    signed_at TEXT,
    signed_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    words TEXT NOT NULL DEFAULT '',
    priorities TEXT NOT NULL DEFAULT '',
    availability TEXT CONSTRAINT diagnostics_availability_check CHECK (availability IN ('immediate', 'sous-un-mois', 'sous-trois-mois', 'plus-tard')),
    distance_km INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX diagnostics_person_idx ON diagnostics (person_id, status, held_on);
-- One draft per person at most.
CREATE UNIQUE INDEX diagnostics_one_draft_idx ON diagnostics (person_id) WHERE status = 'brouillon';

CREATE TABLE diagnostic_fields (
    diagnostic_id INTEGER NOT NULL REFERENCES diagnostics (id) ON DELETE CASCADE,
    field TEXT NOT NULL CONSTRAINT diagnostic_fields_field_check CHECK (field IN ('reseau-professionnel', 'savoirs-de-base', 'competences-numeriques', 'contraintes-familiales', 'mobilite', 'logement', 'precarite-financiere', 'sante-handicap')),
    level TEXT NOT NULL CONSTRAINT diagnostic_fields_level_check CHECK (level IN ('0', '1', '2', '3')),
    comment TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (diagnostic_id, field)
);
CREATE INDEX diagnostic_fields_field_idx ON diagnostic_fields (field, level);

CREATE TABLE diagnostic_ticks (
    diagnostic_id INTEGER NOT NULL REFERENCES diagnostics (id) ON DELETE CASCADE,
    situation_id INTEGER NOT NULL REFERENCES diagnostic_situations (id),
    PRIMARY KEY (diagnostic_id, situation_id)
);

CREATE TABLE diagnostic_jobs (
    diagnostic_id INTEGER NOT NULL REFERENCES diagnostics (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    rome_code TEXT NOT NULL,
    PRIMARY KEY (diagnostic_id, position)
);

CREATE TABLE diagnostic_hours (
    diagnostic_id INTEGER NOT NULL REFERENCES diagnostics (id) ON DELETE CASCADE,
    hours TEXT NOT NULL CONSTRAINT diagnostic_hours_hours_check CHECK (hours IN ('temps-plein', 'temps-partiel', 'journee', 'horaires-decales', 'nuit', 'week-end')),
    PRIMARY KEY (diagnostic_id, hours)
);

CREATE TABLE plan_objectives (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    field TEXT NOT NULL CONSTRAINT plan_objectives_field_check CHECK (field IN ('reseau-professionnel', 'savoirs-de-base', 'competences-numeriques', 'contraintes-familiales', 'mobilite', 'logement', 'precarite-financiere', 'sante-handicap')),
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX plan_objectives_person_idx ON plan_objectives (person_id);

CREATE TABLE plan_actions (
    id INTEGER PRIMARY KEY,
    objective_id INTEGER NOT NULL REFERENCES plan_objectives (id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    owner_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    due_on TEXT NOT NULL,
    status TEXT NOT NULL CONSTRAINT plan_actions_status_check CHECK (status IN ('a-faire', 'en-cours', 'fait', 'abandonne')),
    done_on TEXT,
    service_id INTEGER REFERENCES directory_services (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    updated_at TEXT NOT NULL,
    updated_by INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX plan_actions_person_idx ON plan_actions (person_id, due_on);
CREATE INDEX plan_actions_owner_idx ON plan_actions (owner_id, status, due_on);

-- A territory's own rules (and its versions of shipped ones, same code): the rule as JSON
-- (domain::eligibility::Rule), its code and start of validity copied out for lookups.
CREATE TABLE eligibility_rules (
    id INTEGER PRIMARY KEY,
    territory_id INTEGER NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    definition TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT eligibility_rules_key UNIQUE (territory_id, code, valid_from)
);

-- The rules a service of the directory requires (by code, shipped or the territory's).
CREATE TABLE directory_service_rules (
    service_id INTEGER NOT NULL REFERENCES directory_services (id) ON DELETE CASCADE,
    rule_code TEXT NOT NULL,
    PRIMARY KEY (service_id, rule_code)
);

-- The shipped situations.
INSERT INTO diagnostic_situations (field, label, position) VALUES
    ('reseau-professionnel', 'Personne dans son entourage ne travaille dans le métier visé', 1),
    ('reseau-professionnel', 'Pas d''expérience professionnelle récente (plus de deux ans)', 2),
    ('reseau-professionnel', 'Jamais travaillé en France', 3),
    ('reseau-professionnel', 'Ne connaît pas les métiers qui recrutent près de chez elle', 4),
    ('reseau-professionnel', 'Pas de CV ou CV à refaire', 5),
    ('reseau-professionnel', 'Difficulté à se présenter à un employeur', 6),
    ('savoirs-de-base', 'Difficultés à lire', 1),
    ('savoirs-de-base', 'Difficultés à écrire', 2),
    ('savoirs-de-base', 'Difficultés en calcul', 3),
    ('savoirs-de-base', 'Français oral à consolider', 4),
    ('savoirs-de-base', 'Français inférieur au niveau A1', 5),
    ('savoirs-de-base', 'Diplôme étranger non reconnu', 6),
    ('competences-numeriques', 'Pas d''équipement (ordinateur, smartphone)', 1),
    ('competences-numeriques', 'Pas de connexion internet', 2),
    ('competences-numeriques', 'Pas d''adresse électronique utilisable', 3),
    ('competences-numeriques', 'Ne sait pas faire ses démarches en ligne', 4),
    ('competences-numeriques', 'Pas d''accès à son espace France Travail', 5),
    ('contraintes-familiales', 'Pas de solution de garde d''enfants', 1),
    ('contraintes-familiales', 'Garde impossible aux horaires décalés', 2),
    ('contraintes-familiales', 'Parent isolé', 3),
    ('contraintes-familiales', 'Aidant d''un proche dépendant', 4),
    ('contraintes-familiales', 'Enfant en situation de handicap', 5),
    ('mobilite', 'Pas de permis de conduire', 1),
    ('mobilite', 'Permis suspendu ou annulé', 2),
    ('mobilite', 'Pas de véhicule', 3),
    ('mobilite', 'Zone mal desservie par les transports', 4),
    ('mobilite', 'Horaires décalés impossibles', 5),
    ('mobilite', 'Peur de se déplacer hors du quartier', 6),
    ('mobilite', 'Coût des transports', 7),
    ('logement', 'Sans logement ou hébergé chez un tiers', 1),
    ('logement', 'Hébergement d''urgence', 2),
    ('logement', 'Logement suroccupé ou insalubre', 3),
    ('logement', 'Impayés de loyer ou menace d''expulsion', 4),
    ('logement', 'Demande de logement social en attente', 5),
    ('precarite-financiere', 'Dettes ou surendettement', 1),
    ('precarite-financiere', 'Pas de compte bancaire', 2),
    ('precarite-financiere', 'Droits sociaux non ouverts ou interrompus', 3),
    ('precarite-financiere', 'Ressources insuffisantes pour les besoins essentiels', 4),
    ('precarite-financiere', 'Crainte de perdre ses droits en reprenant un emploi', 5),
    ('sante-handicap', 'Problème de santé non soigné', 1),
    ('sante-handicap', 'Renoncement aux soins', 2),
    ('sante-handicap', 'Pas de complémentaire santé', 3),
    ('sante-handicap', 'Handicap sans reconnaissance (RQTH à demander)', 4),
    ('sante-handicap', 'Souffrance psychique', 5),
    ('sante-handicap', 'Addiction', 6);
