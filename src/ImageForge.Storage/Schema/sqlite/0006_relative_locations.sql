-- Artifacts and evidence below the data directory are stored relative to it (in_data_dir = 1), so a data directory
-- restored from a backup or moved to another disk still finds its files: the catalog resolves such a location
-- against the data directory it is opened in. Absolute paths outside the data directory and provider image ids are
-- kept as they are (in_data_dir = 0). @DataDir is the data directory this migration runs in, ending in '/' (NULL:
-- nothing is rewritten).
ALTER TABLE artifacts ADD COLUMN in_data_dir INTEGER NOT NULL DEFAULT 0 CHECK (in_data_dir IN (0, 1));
ALTER TABLE evidence ADD COLUMN in_data_dir INTEGER NOT NULL DEFAULT 0 CHECK (in_data_dir IN (0, 1));

UPDATE artifacts
SET location = substr(location, length(@DataDir) + 1), in_data_dir = 1
WHERE in_data_dir = 0
  AND length(location) > length(@DataDir)
  AND substr(location, 1, length(@DataDir)) = @DataDir;

UPDATE evidence
SET location = substr(location, length(@DataDir) + 1), in_data_dir = 1
WHERE in_data_dir = 0
  AND length(location) > length(@DataDir)
  AND substr(location, 1, length(@DataDir)) = @DataDir;

-- Admission looks an artifact up by its location, which is now a location and whether it is relative.
DROP INDEX artifacts_by_location;
CREATE INDEX artifacts_by_location ON artifacts (location, in_data_dir);
