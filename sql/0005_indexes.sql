-- xloop:no-transaction
-- Indexes for the tools' queries, built CONCURRENTLY so adopting a large live
-- database does not block the bot's writes. A build that failed half-way
-- leaves an invalid index; drop those first so IF NOT EXISTS rebuilds them.

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT format('%I.%I', n.nspname, c.relname) AS qname
               FROM pg_index i
               JOIN pg_class c ON c.oid = i.indexrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE NOT i.indisvalid
                AND c.relname IN ('cgmc_posted_idx', 'cgmc_status_scheduled_idx',
                                  'cgmc_content_hash_idx', 'cgmc_reply_target_idx',
                                  'follower_snapshots_snapshot_at_idx',
                                  'reply_opportunities_pending_idx', 'outcomes_collected_at_idx')
    LOOP
        EXECUTE format('DROP INDEX %s', r.qname);
    END LOOP;
END
$$;

CREATE INDEX CONCURRENTLY IF NOT EXISTS cgmc_posted_idx
    ON public.content_generation_metadata_comprehensive (posted_at)
    WHERE status = 'posted' AND tweet_id IS NOT NULL;

CREATE INDEX CONCURRENTLY IF NOT EXISTS cgmc_status_scheduled_idx
    ON public.content_generation_metadata_comprehensive (status, scheduled_at);

CREATE INDEX CONCURRENTLY IF NOT EXISTS cgmc_content_hash_idx
    ON public.content_generation_metadata_comprehensive (content_hash);

CREATE INDEX CONCURRENTLY IF NOT EXISTS cgmc_reply_target_idx
    ON public.content_generation_metadata_comprehensive (lower(target_username), created_at)
    WHERE decision_type = 'reply';

CREATE INDEX CONCURRENTLY IF NOT EXISTS follower_snapshots_snapshot_at_idx
    ON public.follower_snapshots (snapshot_at);

CREATE INDEX CONCURRENTLY IF NOT EXISTS reply_opportunities_pending_idx
    ON public.reply_opportunities (discovered_at) WHERE status = 'pending';

CREATE INDEX CONCURRENTLY IF NOT EXISTS outcomes_collected_at_idx
    ON public.outcomes (collected_at);
