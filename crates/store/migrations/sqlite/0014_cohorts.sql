-- Cohorts, collective actions, employers, exits and the follow-up after them (docs/domain.md
-- §11). An exit is now a row of its own — a person may leave, come back into accompaniment and
-- leave again, the history kept — with a detailed type (domain::exit::ExitKind); the follow-up
-- checks at 3, 6 and 12 months hang from it. persons.exited_on stays the date of the current
-- exit; persons.exit_reason gives way to person_exits (its values are copied there first).

CREATE TABLE employers (
    id INTEGER PRIMARY KEY,
    territory_id INTEGER NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    siret TEXT NOT NULL,
    name TEXT NOT NULL,
    naf TEXT NOT NULL DEFAULT '',
    commune_insee TEXT,
    commune_name TEXT NOT NULL DEFAULT '',
    contact_name TEXT NOT NULL DEFAULT '',
    contact_email TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT employers_siret_key UNIQUE (territory_id, siret)
);
CREATE INDEX employers_name_idx ON employers (territory_id, name);

CREATE TABLE person_exits (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    territory_id INTEGER NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    exited_on TEXT NOT NULL,
    kind TEXT NOT NULL CONSTRAINT person_exits_kind_check CHECK (kind IN ('cdi', 'cdd-long', 'fonction-publique', 'creation-entreprise', 'cdd-court', 'contrat-aide', 'formation-qualifiante', 'autre-siae', 'alternance', 'demenagement', 'abandon', 'sans-nouvelles', 'sante', 'autre-motif')),
    employer_id INTEGER REFERENCES employers (id) ON DELETE SET NULL,
    detail TEXT NOT NULL DEFAULT '',
    recorded_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    recorded_at TEXT NOT NULL,
    -- The day the person came back into accompaniment (the checks still to come are cancelled).
    returned_on TEXT
);
CREATE INDEX person_exits_person_idx ON person_exits (person_id, exited_on);
CREATE INDEX person_exits_territory_idx ON person_exits (territory_id, exited_on);
CREATE INDEX person_exits_employer_idx ON person_exits (employer_id);

INSERT INTO person_exits (person_id, territory_id, exited_on, kind, detail, recorded_at)
SELECT id, territory_id, exited_on,
       CASE exit_reason
           WHEN 'emploi-durable' THEN 'cdi'
           WHEN 'emploi-transition' THEN 'cdd-court'
           WHEN 'iae' THEN 'contrat-aide'
           WHEN 'alternance' THEN 'alternance'
           WHEN 'formation' THEN 'formation-qualifiante'
           WHEN 'demenagement' THEN 'demenagement'
           WHEN 'abandon' THEN 'abandon'
           ELSE 'autre-motif'
       END,
       'Sortie enregistrée avant la typologie détaillée (motif d''origine : ' || COALESCE(exit_reason, 'non précisé') || ').',
       updated_at
FROM persons WHERE status = 'sorti' AND exited_on IS NOT NULL;

DROP TRIGGER persons_exit_reason_check_insert;
DROP TRIGGER persons_exit_reason_check_update;
ALTER TABLE persons DROP COLUMN exit_reason;

-- The référent's checks after an exit; one per exit and month, whatever the number of runs.
CREATE TABLE follow_up_checks (
    id INTEGER PRIMARY KEY,
    exit_id INTEGER NOT NULL REFERENCES person_exits (id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    territory_id INTEGER NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    months INTEGER NOT NULL CONSTRAINT follow_up_checks_months_check CHECK (months IN (3, 6, 12)),
    due_on TEXT NOT NULL,
    status TEXT NOT NULL CONSTRAINT follow_up_checks_status_check CHECK (status IN ('a-faire', 'fait', 'annule')),
    situation TEXT CONSTRAINT follow_up_checks_situation_check CHECK (situation IN ('meme-emploi', 'autre-emploi', 'formation', 'recherche-emploi', 'inconnue')),
    employer_id INTEGER REFERENCES employers (id) ON DELETE SET NULL,
    note TEXT NOT NULL DEFAULT '',
    done_on TEXT,
    done_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    done_at TEXT,
    notified_at TEXT,
    CONSTRAINT follow_up_checks_key UNIQUE (exit_id, months)
);
CREATE INDEX follow_up_checks_due_idx ON follow_up_checks (status, due_on);
CREATE INDEX follow_up_checks_person_idx ON follow_up_checks (person_id, months);

CREATE TABLE cohorts (
    id INTEGER PRIMARY KEY,
    territory_id INTEGER NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- domain::cohort::Public as JSON.
    public TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    capacity INTEGER CONSTRAINT cohorts_capacity_check CHECK (capacity > 0),
    wave TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX cohorts_territory_idx ON cohorts (territory_id, starts_on);

CREATE TABLE cohort_referents (
    cohort_id INTEGER NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (cohort_id, user_id)
);

-- Each stay of a person in a cohort; one open stay per person and cohort.
CREATE TABLE cohort_members (
    id INTEGER PRIMARY KEY,
    cohort_id INTEGER NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    entered_on TEXT NOT NULL,
    left_on TEXT,
    leave_reason TEXT CONSTRAINT cohort_members_leave_reason_check CHECK (leave_reason IN ('fin-cohorte', 'sortie', 'abandon', 'reorientation', 'erreur', 'autre')),
    leave_note TEXT NOT NULL DEFAULT '',
    added_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    added_at TEXT NOT NULL,
    CONSTRAINT cohort_members_dates_check CHECK (left_on IS NULL OR left_on >= entered_on)
);
CREATE UNIQUE INDEX cohort_members_open_idx ON cohort_members (cohort_id, person_id) WHERE left_on IS NULL;
CREATE INDEX cohort_members_cohort_idx ON cohort_members (cohort_id, entered_on);
CREATE INDEX cohort_members_person_idx ON cohort_members (person_id);

CREATE TABLE collective_actions (
    id INTEGER PRIMARY KEY,
    territory_id INTEGER NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CONSTRAINT collective_actions_kind_check CHECK (kind IN ('job-dating', 'information-collective', 'atelier', 'forum', 'visite-entreprise', 'immersion-pmsmp', 'autre')),
    title TEXT NOT NULL,
    held_on TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL DEFAULT '',
    place TEXT NOT NULL,
    capacity INTEGER CONSTRAINT collective_actions_capacity_check CHECK (capacity > 0),
    field TEXT CONSTRAINT collective_actions_field_check CHECK (field IN ('reseau-professionnel', 'savoirs-de-base', 'competences-numeriques', 'contraintes-familiales', 'mobilite', 'logement', 'precarite-financiere', 'sante-handicap')),
    description TEXT NOT NULL DEFAULT '',
    cohort_id INTEGER REFERENCES cohorts (id) ON DELETE SET NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX collective_actions_territory_idx ON collective_actions (territory_id, held_on);
CREATE INDEX collective_actions_cohort_idx ON collective_actions (cohort_id);

-- The organisations behind an action: its organisers and its partners.
CREATE TABLE action_organisations (
    action_id INTEGER NOT NULL REFERENCES collective_actions (id) ON DELETE CASCADE,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    organiser BOOLEAN NOT NULL,
    PRIMARY KEY (action_id, organisation_id)
);
CREATE INDEX action_organisations_organisation_idx ON action_organisations (organisation_id);

CREATE TABLE action_employers (
    action_id INTEGER NOT NULL REFERENCES collective_actions (id) ON DELETE CASCADE,
    employer_id INTEGER NOT NULL REFERENCES employers (id) ON DELETE CASCADE,
    PRIMARY KEY (action_id, employer_id)
);
CREATE INDEX action_employers_employer_idx ON action_employers (employer_id);

CREATE TABLE action_registrations (
    action_id INTEGER NOT NULL REFERENCES collective_actions (id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    status TEXT NOT NULL CONSTRAINT action_registrations_status_check CHECK (status IN ('invitee', 'inscrite')),
    invited_at TEXT NOT NULL,
    invited_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    invitation_mailed_at TEXT,
    registered_at TEXT,
    attendance TEXT CONSTRAINT action_registrations_attendance_check CHECK (attendance IN ('present', 'absent', 'excuse')),
    attendance_at TEXT,
    attendance_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (action_id, person_id)
);
CREATE INDEX action_registrations_person_idx ON action_registrations (person_id);

CREATE TABLE employer_engagements (
    id INTEGER PRIMARY KEY,
    employer_id INTEGER NOT NULL REFERENCES employers (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CONSTRAINT employer_engagements_kind_check CHECK (kind IN ('parrainage', 'immersion', 'job-dating', 'recrutement', 'visite', 'club-entreprises')),
    happened_on TEXT NOT NULL,
    action_id INTEGER REFERENCES collective_actions (id) ON DELETE SET NULL,
    person_id INTEGER REFERENCES persons (id) ON DELETE SET NULL,
    note TEXT NOT NULL DEFAULT '',
    recorded_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX employer_engagements_employer_idx ON employer_engagements (employer_id, happened_on);
CREATE INDEX employer_engagements_person_idx ON employer_engagements (person_id);

CREATE TABLE job_offers (
    id INTEGER PRIMARY KEY,
    employer_id INTEGER NOT NULL REFERENCES employers (id) ON DELETE CASCADE,
    territory_id INTEGER NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    rome_code TEXT NOT NULL,
    commune_insee TEXT,
    positions INTEGER NOT NULL CONSTRAINT job_offers_positions_check CHECK (positions > 0),
    status TEXT NOT NULL CONSTRAINT job_offers_status_check CHECK (status IN ('ouverte', 'pourvue', 'close')),
    description TEXT NOT NULL DEFAULT '',
    opened_on TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX job_offers_employer_idx ON job_offers (employer_id, opened_on);
CREATE INDEX job_offers_territory_idx ON job_offers (territory_id, status);
CREATE INDEX diagnostic_jobs_rome_idx ON diagnostic_jobs (rome_code);
