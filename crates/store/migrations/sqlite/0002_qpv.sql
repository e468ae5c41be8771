-- QPV of each map (millésime): name, communes, contour. The contour is the GeoJSON coordinates
-- of a MultiPolygon (EPSG:4326), as text: the spatial index is built in memory from it.

CREATE TABLE qpv_zones (
    millesime INTEGER NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    communes_label TEXT NOT NULL DEFAULT '',
    geometry TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (millesime, code)
);

CREATE TABLE qpv_communes (
    millesime INTEGER NOT NULL,
    code TEXT NOT NULL,
    insee_code TEXT NOT NULL,
    PRIMARY KEY (millesime, code, insee_code)
);
CREATE INDEX qpv_communes_insee_idx ON qpv_communes (insee_code);
