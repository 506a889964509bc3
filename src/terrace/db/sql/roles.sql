-- The least-privilege roles (terrace.db.roles): what each may do, granted by `ensure` as the owner.
-- Every statement is idempotent, so ensure runs them all every time.

-- name: existing_roles
SELECT rolname FROM pg_roles WHERE rolname = ANY(%(names)s);

-- name: grant_app
-- The application (API and workers): all data of `app`, creates and owns the runtime tables of
-- `geo` and `geo_draft`, writes STAC through pgSTAC's ingest role, reads and writes the grids of `h3`.
-- No superuser, no file access.
-- The owner joins it: only members may hand tables over to it or set its default privileges.
GRANT terrace_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA app TO terrace_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO terrace_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA app TO terrace_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA app TO terrace_app;
GRANT USAGE, CREATE ON SCHEMA geo, geo_draft TO terrace_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON geo.table_catalog TO terrace_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA geo TO terrace_app;
GRANT pgstac_ingest TO terrace_app;
GRANT USAGE ON SCHEMA h3 TO terrace_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA h3 TO terrace_app;

-- name: grant_serving
-- The serving APIs: read what is served (every relation of `geo`: drafts and revoked releases
-- live in `geo_draft`; terrace.catalog.relations grants each relation as it enters `geo`) and
-- pgSTAC through its read role. Nothing of `app` or `geo_draft`.
GRANT USAGE ON SCHEMA geo TO terrace_serving;
GRANT SELECT ON ALL TABLES IN SCHEMA geo TO terrace_serving;
GRANT pgstac_read TO terrace_serving;

-- name: grant_preview
-- Reviewers' draft previews: read the drafts of `geo_draft` and the catalog rows describing them.
GRANT USAGE ON SCHEMA geo, geo_draft TO terrace_preview;
GRANT SELECT ON geo.table_catalog TO terrace_preview;
GRANT SELECT ON ALL TABLES IN SCHEMA geo_draft TO terrace_preview;
ALTER DEFAULT PRIVILEGES FOR ROLE terrace_app IN SCHEMA geo_draft GRANT SELECT ON TABLES TO terrace_preview;

-- name: foreign_runtime_relations
-- Data tables and views of `geo`/`geo_draft` owned by another role (made before the roles existed):
-- the application must own them to rename, move and drop them.
SELECT n.nspname AS schema_name, c.relname AS name, c.relkind::text AS kind
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('geo', 'geo_draft') AND c.relkind IN ('r', 'v', 'p')
  AND c.relowner <> 'terrace_app'::regrole
  AND NOT (n.nspname = 'geo' AND c.relname = ANY(%(model_tables)s));

-- name: restrict_connect
-- Only Terrace's roles (and the owner) connect to this database: a login made for another
-- database of the same cluster (the public zone's reader) cannot read this one.
DO $$
BEGIN
  EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO terrace_app, terrace_serving, terrace_preview',
                 current_database());
END $$;
