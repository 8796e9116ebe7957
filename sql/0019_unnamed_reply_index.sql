-- xloop:no-transaction
-- scrape-metrics gives a reply that names no account the author of the post
-- it answers (reply_opportunities), every run, over learn-replies' window:
-- this finds those replies without reading the window's posts (250 000 of a
-- million, 0.55 s a run); xloop's own replies name theirs and are not in it.
-- Built CONCURRENTLY, like 0018; an invalid leftover of a failed build is
-- dropped first.

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i
                WHERE i.indexrelid = to_regclass('public.cgmc_unnamed_reply_idx')
                  AND NOT i.indisvalid) THEN
        DROP INDEX public.cgmc_unnamed_reply_idx;
    END IF;
END
$$;

CREATE INDEX CONCURRENTLY IF NOT EXISTS cgmc_unnamed_reply_idx
    ON public.content_generation_metadata_comprehensive (posted_at)
    WHERE decision_type = 'reply' AND coalesce(btrim(target_username), '') = '';
