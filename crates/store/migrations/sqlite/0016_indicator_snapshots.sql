-- The counts behind a reach's indicators over a period of whole months, as computed at
-- computed_at (docs/domain.md §5): readers of aggregates are served from them during the day,
-- masking and layout applied again at each reading. Refreshed by the nightly job and by the
-- first reading of the day.
CREATE TABLE indicator_snapshots (
    reach TEXT NOT NULL,
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    counts TEXT NOT NULL,
    PRIMARY KEY (reach, period_from, period_to)
);
