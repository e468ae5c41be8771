-- Addresses of the Base Adresse Nationale imported for offline geocoding (official
-- département files). The geocoder's index is built in memory from this table.

CREATE TABLE ban_addresses (
    id TEXT PRIMARY KEY NOT NULL,
    numero INTEGER,
    rep TEXT NOT NULL DEFAULT '',
    nom_voie TEXT NOT NULL,
    code_postal TEXT NOT NULL,
    code_insee TEXT NOT NULL,
    nom_commune TEXT NOT NULL,
    lon REAL NOT NULL,
    lat REAL NOT NULL
);
CREATE INDEX ban_addresses_insee_idx ON ban_addresses (code_insee);
