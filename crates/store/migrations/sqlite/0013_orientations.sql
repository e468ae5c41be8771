-- Orientations (docs/domain.md §10): a person sent by their follow-up group to a service of the
-- directory or to a partner organisation, and what became of it. The status changes only through
-- domain::orientation's state machine, each change guarded by the row's version (two people
-- acting at once: the second one's update matches nothing) and logged in orientation_events,
-- which accepts no UPDATE. The receiver's and the service's names are copied at sending: the
-- directory may change, the orientation says what was sent.

CREATE TABLE orientations (
    id INTEGER PRIMARY KEY,
    territory_id INTEGER NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    previous_id INTEGER REFERENCES orientations (id) ON DELETE SET NULL,
    service_id INTEGER REFERENCES directory_services (id) ON DELETE SET NULL,
    service_name TEXT NOT NULL DEFAULT '',
    receiver_org_id INTEGER REFERENCES organisations (id) ON DELETE SET NULL,
    receiver_name TEXT NOT NULL,
    receiver_email TEXT,
    sender_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    sender_org_id INTEGER REFERENCES organisations (id) ON DELETE SET NULL,
    consent_id INTEGER REFERENCES person_consents (id) ON DELETE SET NULL,
    status TEXT NOT NULL CONSTRAINT orientations_status_check CHECK (status IN ('envoyee', 'a-l-etude', 'acceptee', 'declinee', 'expiree', 'annulee', 'entree', 'absente', 'terminee')),
    status_on TEXT NOT NULL,
    reminders INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    documents TEXT NOT NULL DEFAULT '',
    contact_preference TEXT NOT NULL DEFAULT '',
    availability TEXT NOT NULL DEFAULT '',
    sent_at TEXT NOT NULL,
    answered_at TEXT,
    entered_on TEXT,
    ended_on TEXT,
    outcome TEXT CONSTRAINT orientations_outcome_check CHECK (outcome IN ('parcours-realise', 'abandon', 'reorientee')),
    decline_comment TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
-- The lists read 50 lines in sending order from these, and count by status from the covering
-- ones, whatever the number of orientations (docs/domain.md §10, `passerelle bench orientations`).
CREATE INDEX orientations_receiver_idx ON orientations (receiver_org_id, territory_id, sent_at);
CREATE INDEX orientations_receiver_status_idx ON orientations (receiver_org_id, territory_id, status, sent_at);
CREATE INDEX orientations_sender_idx ON orientations (sender_id, territory_id, status);
CREATE INDEX orientations_territory_idx ON orientations (territory_id, sent_at);
CREATE INDEX orientations_territory_status_idx ON orientations (territory_id, status, sent_at);
CREATE INDEX orientations_person_idx ON orientations (person_id, sent_at);
CREATE INDEX orientations_service_idx ON orientations (service_id, answered_at);
CREATE INDEX orientations_receiver_answers_idx ON orientations (receiver_org_id, answered_at);
CREATE INDEX orientations_previous_idx ON orientations (previous_id);
CREATE INDEX orientations_open_idx ON orientations (status, id);

-- The barriers the orientation addresses.
CREATE TABLE orientation_fields (
    orientation_id INTEGER NOT NULL REFERENCES orientations (id) ON DELETE CASCADE,
    field TEXT NOT NULL CONSTRAINT orientation_fields_field_check CHECK (field IN ('reseau-professionnel', 'savoirs-de-base', 'competences-numeriques', 'contraintes-familiales', 'mobilite', 'logement', 'precarite-financiere', 'sante-handicap')),
    PRIMARY KEY (orientation_id, field)
);

CREATE TABLE orientation_decline_reasons (
    orientation_id INTEGER NOT NULL REFERENCES orientations (id) ON DELETE CASCADE,
    reason TEXT NOT NULL CONSTRAINT orientation_decline_reasons_reason_check CHECK (reason IN ('injoignable', 'absent-entretien', 'en-emploi', 'en-formation', 'non-eligible', 'non-mobile', 'non-interesse', 'freins-incompatibles', 'session-complete', 'doublon', 'autre')),
    detail TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (orientation_id, reason)
);

-- The log: who (an account, or the holder of a magic link, or the job queue), when, from -> to.
CREATE TABLE orientation_events (
    id INTEGER PRIMARY KEY,
    orientation_id INTEGER NOT NULL REFERENCES orientations (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    via_link BOOLEAN NOT NULL DEFAULT 0,
    from_status TEXT CONSTRAINT orientation_events_from_check CHECK (from_status IN ('envoyee', 'a-l-etude', 'acceptee', 'declinee', 'expiree', 'annulee', 'entree', 'absente', 'terminee')),
    to_status TEXT NOT NULL CONSTRAINT orientation_events_to_check CHECK (to_status IN ('envoyee', 'a-l-etude', 'acceptee', 'declinee', 'expiree', 'annulee', 'entree', 'absente', 'terminee')),
    step TEXT CONSTRAINT orientation_events_step_check CHECK (step IN ('etude', 'accepter', 'decliner', 'annuler', 'expirer', 'entree', 'absence', 'terminer')),
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX orientation_events_orientation_idx ON orientation_events (orientation_id, id);
CREATE TRIGGER orientation_events_no_update BEFORE UPDATE ON orientation_events
BEGIN
    SELECT RAISE(ABORT, 'orientation_events is append-only');
END;

-- Magic links for a receiver without an account: only the token's hash is stored; one link per
-- mail, for one orientation and one recipient; each step usable once per link.
CREATE TABLE orientation_links (
    id INTEGER PRIMARY KEY,
    orientation_id INTEGER NOT NULL REFERENCES orientations (id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    CONSTRAINT orientation_links_token_key UNIQUE (token_hash)
);
CREATE INDEX orientation_links_orientation_idx ON orientation_links (orientation_id, created_at);

CREATE TABLE orientation_link_uses (
    link_id INTEGER NOT NULL REFERENCES orientation_links (id) ON DELETE CASCADE,
    step TEXT NOT NULL CONSTRAINT orientation_link_uses_step_check CHECK (step IN ('etude', 'accepter', 'decliner', 'annuler', 'expirer', 'entree', 'absence', 'terminer')),
    used_at TEXT NOT NULL,
    PRIMARY KEY (link_id, step)
);

-- A territory's delays (domain::orientation::Delays; the defaults without a row).
CREATE TABLE orientation_settings (
    territory_id INTEGER PRIMARY KEY NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    unanswered_days INTEGER NOT NULL,
    study_days INTEGER NOT NULL,
    reminder_days INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by INTEGER REFERENCES users (id) ON DELETE SET NULL
);

-- How a professional hears of orientations (immediate without a row), and the notices waiting
-- for the daily digest of those who chose it.
CREATE TABLE notice_preferences (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mode TEXT NOT NULL CONSTRAINT notice_preferences_mode_check CHECK (mode IN ('immediat', 'quotidien'))
);

CREATE TABLE pending_notices (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    digested_at TEXT
);
CREATE INDEX pending_notices_user_idx ON pending_notices (digested_at, user_id);
