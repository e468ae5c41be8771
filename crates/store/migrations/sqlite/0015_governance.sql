-- Steering the territory (docs/domain.md §12): its meetings with their attendees (organisations),
-- decisions, action items (an owner and a due date, shown on the owner's home page) and the
-- situations reviewed (linked to person files, shown only to those who may open them); its
-- roadmap on the three axes, each action with its indicator and progress.

CREATE TABLE meetings (
    id INTEGER PRIMARY KEY,
    territory_id INTEGER NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CONSTRAINT meetings_kind_check CHECK (kind IN ('copil', 'cotech', 'cellule-operationnelle', 'comite-local-emploi')),
    held_on TEXT NOT NULL,
    title TEXT NOT NULL,
    agenda TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX meetings_territory_idx ON meetings (territory_id, held_on);

CREATE TABLE meeting_attendees (
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    PRIMARY KEY (meeting_id, organisation_id)
);

CREATE TABLE meeting_decisions (
    id INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    recorded_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX meeting_decisions_meeting_idx ON meeting_decisions (meeting_id);

CREATE TABLE meeting_actions (
    id INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    territory_id INTEGER NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    owner_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    due_on TEXT NOT NULL,
    done_on TEXT,
    done_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX meeting_actions_meeting_idx ON meeting_actions (meeting_id);
CREATE INDEX meeting_actions_owner_idx ON meeting_actions (owner_id, done_on, due_on);

CREATE TABLE meeting_cases (
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    note TEXT NOT NULL DEFAULT '',
    added_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (meeting_id, person_id)
);
CREATE INDEX meeting_cases_person_idx ON meeting_cases (person_id);

CREATE TABLE roadmap_actions (
    id INTEGER PRIMARY KEY,
    territory_id INTEGER NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    year INTEGER NOT NULL,
    axis TEXT NOT NULL CONSTRAINT roadmap_actions_axis_check CHECK (axis IN ('cooperation', 'droit-commun', 'offre-specifique')),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    lead_org_id INTEGER REFERENCES organisations (id) ON DELETE SET NULL,
    due_on TEXT,
    indicator TEXT NOT NULL DEFAULT '',
    -- A step of the funnel counted over the year in the territory, or a value entered by hand.
    measure TEXT CONSTRAINT roadmap_actions_measure_check CHECK (measure IN ('reperes', 'contactes', 'accompagnes', 'diagnostiques', 'orientes', 'entrees', 'sorties-emploi-durable', 'sorties-transition', 'sorties-positives', 'sorties-autres')),
    value INTEGER,
    target INTEGER,
    status TEXT NOT NULL CONSTRAINT roadmap_actions_status_check CHECK (status IN ('a-lancer', 'en-cours', 'realisee', 'abandonnee')),
    progress INTEGER NOT NULL DEFAULT 0 CONSTRAINT roadmap_actions_progress_check CHECK (progress BETWEEN 0 AND 100),
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX roadmap_actions_territory_idx ON roadmap_actions (territory_id, year, axis);
