-- Retention of person files (DOMAIN.md §7): two years after the last contact a file goes to the
-- intermediate archive (out of every list, readable by the territory's coordinators only); two
-- years later it is deleted.
ALTER TABLE persons ADD COLUMN archived_on TEXT;
