-- Contact attempts (docs/domain.md §4): a contact that did not reach the person is recorded as
-- an attempt with its reason; the list of outcomes grows by « message laissé » and « numéro
-- erroné ».
DROP TRIGGER person_journal_outcome_check_insert;
DROP TRIGGER person_journal_outcome_check_update;
CREATE TRIGGER person_journal_outcome_check_insert BEFORE INSERT ON person_journal
    WHEN NEW.outcome IS NOT NULL AND NEW.outcome NOT IN ('joint', 'rendez-vous', 'non-joint', 'message-laisse', 'faux-numero', 'absent')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: person_journal_outcome_check'); END;
CREATE TRIGGER person_journal_outcome_check_update BEFORE UPDATE OF outcome ON person_journal
    WHEN NEW.outcome IS NOT NULL AND NEW.outcome NOT IN ('joint', 'rendez-vous', 'non-joint', 'message-laisse', 'faux-numero', 'absent')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: person_journal_outcome_check'); END;

-- Attempts recorded before this change moved « dernier contact »: it is recomputed from what
-- reached the person (contacts that did, and the dated steps of the funnel). SQLite's MAX()
-- is NULL when one argument is: each one falls back to the repérage date.
UPDATE persons SET last_contact_on = MAX(met_on, COALESCE(contacted_on, met_on),
    COALESCE(accompanied_on, met_on), COALESCE(exited_on, met_on),
    COALESCE((SELECT MAX(j.occurred_on) FROM person_journal j WHERE j.person_id = persons.id AND j.kind = 'contact' AND j.outcome IN ('joint', 'rendez-vous')), met_on));
