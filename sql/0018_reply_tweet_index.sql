-- xloop:no-transaction
-- plan never replies to a post twice: each opportunity it takes is looked up
-- among the replies by the post they answer (a harvester that finds a post
-- again a day later, or holds two rows of it). Replies only: the index is a
-- sliver of the table. Built CONCURRENTLY, like 0016; an invalid leftover of
-- a failed build is dropped first.

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i
                WHERE i.indexrelid = to_regclass('public.cgmc_reply_tweet_idx')
                  AND NOT i.indisvalid) THEN
        DROP INDEX public.cgmc_reply_tweet_idx;
    END IF;
END
$$;

CREATE INDEX CONCURRENTLY IF NOT EXISTS cgmc_reply_tweet_idx
    ON public.content_generation_metadata_comprehensive (target_tweet_id)
    WHERE decision_type = 'reply';
