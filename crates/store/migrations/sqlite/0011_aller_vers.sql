-- Repérage « aller-vers » (docs/domain.md §4): the aller-vers channels (pied d'immeuble,
-- porte-à-porte, marché, événement de quartier), an age band or a year of birth asked at once.
DROP TRIGGER persons_channel_check_insert;
DROP TRIGGER persons_channel_check_update;
CREATE TRIGGER persons_channel_check_insert BEFORE INSERT ON persons
    WHEN NEW.channel IS NULL OR NEW.channel NOT IN ('pied-d-immeuble', 'porte-a-porte', 'marche', 'evenement-quartier', 'permanence-bailleur', 'association', 'adulte-relais', 'evenement', 'partenaire', 'demarche-spontanee', 'autre')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: persons_channel_check'); END;
CREATE TRIGGER persons_channel_check_update BEFORE UPDATE OF channel ON persons
    WHEN NEW.channel IS NULL OR NEW.channel NOT IN ('pied-d-immeuble', 'porte-a-porte', 'marche', 'evenement-quartier', 'permanence-bailleur', 'association', 'adulte-relais', 'evenement', 'partenaire', 'demarche-spontanee', 'autre')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: persons_channel_check'); END;
ALTER TABLE persons ADD COLUMN age_band TEXT CONSTRAINT persons_age_band_check CHECK (age_band IN ('16-25', '26-49', '50-plus'));
ALTER TABLE persons ADD COLUMN birth_year INTEGER;
