-- xloop:no-transaction
-- validate's checks of the last days (content_slot coverage, the posted
-- items the loop cannot learn from) select the base table's rows by
-- created_at: without an index each scans the whole history (0.9 and 1.1 s
-- at 10⁶ rows for the 33 000 of their window). created_at is never updated,
-- so scrape-metrics' updates stay HOT. Built CONCURRENTLY, like 0005 and
-- 0008; an invalid leftover of a failed build is dropped first.

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i
                WHERE i.indexrelid = to_regclass('public.cgmc_created_at_idx')
                  AND NOT i.indisvalid) THEN
        DROP INDEX public.cgmc_created_at_idx;
    END IF;
END
$$;

CREATE INDEX CONCURRENTLY IF NOT EXISTS cgmc_created_at_idx
    ON public.content_generation_metadata_comprehensive (created_at);
