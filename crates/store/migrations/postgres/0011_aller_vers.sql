-- Repérage « aller-vers » (docs/domain.md §4): the aller-vers channels (pied d'immeuble,
-- porte-à-porte, marché, événement de quartier), an age band or a year of birth asked at once.
ALTER TABLE persons DROP CONSTRAINT persons_channel_check;
ALTER TABLE persons ADD CONSTRAINT persons_channel_check CHECK (channel IN ('pied-d-immeuble', 'porte-a-porte', 'marche', 'evenement-quartier', 'permanence-bailleur', 'association', 'adulte-relais', 'evenement', 'partenaire', 'demarche-spontanee', 'autre'));
ALTER TABLE persons ADD COLUMN age_band TEXT CONSTRAINT persons_age_band_check CHECK (age_band IN ('16-25', '26-49', '50-plus'));
ALTER TABLE persons ADD COLUMN birth_year INTEGER;
