-- ---------------------------------------------------------------------------------------------
-- Version marker. Not in an API schema and not readable by the API roles.
-- ---------------------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS strata_platform;
REVOKE ALL ON SCHEMA strata_platform FROM PUBLIC;

CREATE TABLE IF NOT EXISTS strata_platform.emulation (
  component    text PRIMARY KEY,
  version      integer NOT NULL,
  installed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE strata_platform.emulation IS
  'Strata: platform emulations installed in this database (component, version).';

INSERT INTO strata_platform.emulation (component, version)
VALUES ('supabase', 2)
ON CONFLICT (component) DO UPDATE
  SET version = EXCLUDED.version, installed_at = now()
  WHERE strata_platform.emulation.version < EXCLUDED.version;
