-- xloop:no-transaction
-- plan reads, each run, the texts another program (the original bot before
-- the switch) wrote in the last 30 days, to never queue one again (X refuses
-- a duplicate post, and their content_hash is that program's own): indexed
-- apart, so the run reads those few rows, not the month of xloop's own (0.24 s
-- at 10⁶ rows). xloop's rows are not in it: its inserts maintain nothing
-- here. Built CONCURRENTLY, like 0016; an invalid leftover of a failed build
-- is dropped first.

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i
                WHERE i.indexrelid = to_regclass('public.cgmc_others_created_idx')
                  AND NOT i.indisvalid) THEN
        DROP INDEX public.cgmc_others_created_idx;
    END IF;
END
$$;

CREATE INDEX CONCURRENTLY IF NOT EXISTS cgmc_others_created_idx
    ON public.content_generation_metadata_comprehensive (created_at)
    WHERE generation_source::text IS DISTINCT FROM 'xloop';
