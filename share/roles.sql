-- Least-privilege roles for xloop, after xloop-migrate (psql -f share/roles.sql,
-- as the owner of the tables). Run it again after an upgrade that adds
-- tables. Roles are NOLOGIN groups: grant them to the login roles the tools
-- use (GRANT xloop_writer TO cron_user).
--
--   xloop_reader  xloop-validate, xloop-migrate status: reads everything,
--                 writes nothing (validate then runs without its ledger row)
--   xloop_writer  xloop-scrape-metrics, -build-weights, -learn-replies, -plan:
--                 reads and writes the loop's rows and its ledger, makes
--                 temporary tables; never changes the schema
--
-- xloop-migrate itself needs the owner (it creates and alters tables).
-- On tables with row-level security (Supabase enables it on every table) each
-- role also gets a policy that shows it every row: run the script again after
-- enabling it on more tables. xloop-validate names a table whose rows its
-- role cannot see.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xloop_reader') THEN
        CREATE ROLE xloop_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xloop_writer') THEN
        CREATE ROLE xloop_writer NOLOGIN;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO xloop_reader, xloop_writer',
                   current_database());
    -- scrape-metrics and learn-replies stage rows in temporary tables
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO xloop_writer', current_database());
END
$$;

GRANT USAGE ON SCHEMA public, xloop TO xloop_reader, xloop_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA public, xloop TO xloop_reader, xloop_writer;

GRANT INSERT, UPDATE ON
    public.content_generation_metadata_comprehensive,
    public.outcomes,
    public.follower_snapshots,
    public.learning_model_weights,
    public.discovered_accounts,
    public.reply_opportunities,
    xloop.job_runs
  TO xloop_writer;
-- scrape-metrics' lease (xloop.job_leases): taken, renewed, given back
GRANT INSERT, UPDATE, DELETE ON xloop.job_leases TO xloop_writer;
-- each run deletes its job's ledger rows older than ledger.keep_days
GRANT DELETE ON xloop.job_runs TO xloop_writer;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public, xloop TO xloop_writer;

DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT c.oid::regclass FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname IN ('public', 'xloop') AND c.relkind IN ('r', 'p')
                AND c.relrowsecurity
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_policy
                        WHERE polrelid = t AND polname = 'xloop_reader_rows') THEN
            EXECUTE format('CREATE POLICY xloop_reader_rows ON %s FOR SELECT '
                           'TO xloop_reader USING (true)', t);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_policy
                        WHERE polrelid = t AND polname = 'xloop_writer_rows') THEN
            EXECUTE format('CREATE POLICY xloop_writer_rows ON %s FOR ALL '
                           'TO xloop_writer USING (true) WITH CHECK (true)', t);
        END IF;
    END LOOP;
END
$$;
