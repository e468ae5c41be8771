-- Contact attempts (docs/domain.md §4): a contact that did not reach the person is recorded as
-- an attempt with its reason; the list of outcomes grows by « message laissé » and « numéro
-- erroné ».
ALTER TABLE person_journal DROP CONSTRAINT person_journal_outcome_check;
ALTER TABLE person_journal ADD CONSTRAINT person_journal_outcome_check CHECK (outcome IN ('joint', 'rendez-vous', 'non-joint', 'message-laisse', 'faux-numero', 'absent'));

-- Attempts recorded before this change moved « dernier contact »: it is recomputed from what
-- reached the person (contacts that did, and the dated steps of the funnel).
UPDATE persons SET last_contact_on = GREATEST(met_on, contacted_on, accompanied_on, exited_on,
    (SELECT MAX(j.occurred_on) FROM person_journal j WHERE j.person_id = persons.id AND j.kind = 'contact' AND j.outcome IN ('joint', 'rendez-vous')));
