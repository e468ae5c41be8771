-- Bulk import of persons from a partner's spreadsheet (docs/imports.md). An import keeps the
-- uploaded file only until it is imported or abandoned (then `content` is emptied); the column
-- mapping chosen on screen, the counts and the per-row report of the last dry run or of the
-- import itself stay, without names.
CREATE TABLE person_imports (
    id INTEGER PRIMARY KEY,
    territory_id BIGINT NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    -- The importer's organisation in the territory (none for a coordination without one).
    organisation_id BIGINT REFERENCES organisations (id),
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    content BLOB,
    -- JSON array of the file's column names, and the row count (header not counted).
    header TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    -- JSON object: a target column's code → the index of the file's column.
    mapping TEXT,
    -- 'tout-ou-rien' or 'ligne-par-ligne'.
    mode TEXT,
    create_duplicates BOOLEAN NOT NULL DEFAULT FALSE,
    -- 'depose', 'en-simulation', 'simule', 'en-attente', 'en-cours', 'termine', 'refuse', 'abandonne'.
    state TEXT NOT NULL,
    -- JSON object of the outcomes counted, and the CSV report (line, outcome, file, reason).
    counts TEXT,
    report TEXT,
    rows_done BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX person_imports_user_idx ON person_imports (user_id, created_at);

-- Which row of which partner's list a file came from: the organisation and the row's own
-- identifier (or its folded name and birth date), and a digest of the row as last imported.
-- Importing the same row again finds its file; the same digest means nothing changed.
ALTER TABLE persons ADD COLUMN import_key TEXT;
ALTER TABLE persons ADD COLUMN import_digest TEXT;
CREATE UNIQUE INDEX persons_import_key_idx ON persons (territory_id, import_key);
