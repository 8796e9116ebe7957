-- What scrape-metrics records on the base table: the latest metrics of each
-- post in the original bot's actual_* columns, and when a post was found
-- deleted on X (it is not asked for again). Outcomes gain the direct follow
-- count some sources provide.

ALTER TABLE public.content_generation_metadata_comprehensive
    ADD COLUMN IF NOT EXISTS actual_impressions             bigint,
    ADD COLUMN IF NOT EXISTS actual_likes                   integer,
    ADD COLUMN IF NOT EXISTS actual_retweets                integer,
    ADD COLUMN IF NOT EXISTS actual_replies                 integer,
    ADD COLUMN IF NOT EXISTS actual_engagement_rate         numeric(5,4),
    ADD COLUMN IF NOT EXISTS actual_followers_gained        numeric(10,4),
    ADD COLUMN IF NOT EXISTS actual_primary_objective_score numeric(10,6),
    ADD COLUMN IF NOT EXISTS metrics_collected_at           timestamptz,
    ADD COLUMN IF NOT EXISTS metrics_gone_at                timestamptz;

ALTER TABLE public.outcomes
    ADD COLUMN IF NOT EXISTS follows integer;

CREATE INDEX IF NOT EXISTS cgmc_tweet_id_idx
    ON public.content_generation_metadata_comprehensive (tweet_id);

-- content_metadata's "SELECT *" was expanded when it was created: recreate it
-- (and vw_learning with it) so the view shows the new columns.
SELECT xloop.replace_view('public.content_metadata',
    'SELECT * FROM public.content_generation_metadata_comprehensive');
