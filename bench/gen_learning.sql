-- Generates :rows posted decisions (posts, threads, replies) with v2 outcomes,
-- spread over the :days (90) days before :'now', with realistic attribute
-- cardinality and mixed spellings of generator names. Deterministic (a
-- function of the row).
-- psql -v rows=1000000 -v now=2026-03-02T12:00:00Z [-v topics=40] [-v days=90] -f bench/gen_learning.sql
-- topics: how many distinct topics (40; the original bot's raw_topic is free
-- text, thousands of values). days: how long the history is (90: every row
-- in the tools' windows, their worst case; a real account's 10⁶ rows span
-- years).
\set ON_ERROR_STOP on
\if :{?topics}
\else
\set topics 40
\endif
\if :{?days}
\else
\set days 90
\endif
SET synchronous_commit = off;

INSERT INTO public.content_generation_metadata_comprehensive
    (decision_id, status, tweet_id, posted_at, created_at, decision_type, content_slot,
     generator_name, raw_topic, tone, hook_type, cta_type, structure_type, target_username,
     generation_source, content, scheduled_at)
SELECT md5(g::text)::uuid,
       'posted',
       (1000000000 + g)::text,
       :'now'::timestamptz - ((g::bigint * 104729) % (:days * 86400)) * interval '1 second',
       :'now'::timestamptz - ((g::bigint * 104729) % (:days * 86400) + 3600) * interval '1 second',
       (ARRAY['single', 'single', 'thread', 'reply'])[1 + (g * 31) % 4],
       (ARRAY['myth_busting', 'how_to', 'hot_take', 'data_story', 'tool_tip', 'case_study',
              'question', 'reply'])[1 + (g * 17) % 8],
       (ARRAY['dataNerd', 'data_nerd', 'Data Nerd', 'storyTeller', 'story_teller',
              'contrarian'])[1 + (g * 13) % 6],
       'topic_' || ((g * 7) % :topics),
       (ARRAY['calm', 'bold', 'curious', 'dry', 'friendly', 'urgent'])[1 + (g * 11) % 6],
       (ARRAY['question', 'statistic', 'contrarian', 'story', 'reveal', 'statement'])
           [1 + (g * 5) % 6],
       (ARRAY['link', 'engagement', 'question', 'none'])[1 + (g * 3) % 4],
       (ARRAY['single', 'thread', 'reply'])[1 + (g * 19) % 3],
       CASE WHEN (g * 31) % 4 = 3 THEN 'account_' || ((g * 37) % 100000) END,
       'xloop',
       'A generated post about topic ' || ((g * 7) % :topics),
       -- posts went out 0-20 minutes after their time (a poster on its own
       -- cron); replies when taken
       CASE WHEN (g * 31) % 4 <> 3
            THEN :'now'::timestamptz
                 - ((g::bigint * 104729) % (:days * 86400) + (g * 7) % 1200)
                   * interval '1 second' END
  FROM generate_series(1::bigint, :rows) g;

INSERT INTO public.outcomes
    (decision_id, tweet_id, impressions, likes, retweets, replies, engagement_rate,
     followers_gained, followers_gained_weighted, primary_objective_score,
     attribution_confidence, collected_at, data_source, simulated)
SELECT md5(g::text)::uuid,
       (1000000000 + g)::text,
       500 + (g * 7919) % 20000,
       (g * 13) % 200,
       (g * 7) % 40,
       (g * 3) % 30,
       least(((g * 13) % 200 + (g * 7) % 40 + (g * 3) % 30)::numeric
             / (500 + (g * 7919) % 20000), 1),
       (g * 11) % 60,
       ((g * 11) % 60) * 0.8,
       round((0.4 * least(((g * 13) % 200 + (g * 7) % 40 + (g * 3) % 30)::numeric
                          / (500 + (g * 7919) % 20000), 1)
              + 0.6 / (1 + exp(-0.1 * (((g * 11) % 60) * 0.8 - 25))))::numeric, 6),
       0.8,
       -- last measured at the 30-day checkpoint, or now if younger
       least(:'now'::timestamptz, :'now'::timestamptz + interval '30 days'
             - ((g::bigint * 104729) % (:days * 86400)) * interval '1 second'),
       'bench',
       true
  FROM generate_series(1::bigint, :rows) g;

ANALYZE public.content_generation_metadata_comprehensive;
ANALYZE public.outcomes;
CHECKPOINT;
