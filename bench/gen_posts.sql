-- A database holding :rows posts over the 365 days before :'now' (outcomes for
-- the older ones), follower snapshots every 20 minutes for the last 40 days,
-- and a metrics file of the newest :records posts in two forms: JSON Lines for
-- the tool (:'jsonl') and COPY text for the floor (:'tsv').
\set ON_ERROR_STOP on
SET synchronous_commit = off;
INSERT INTO public.content_generation_metadata_comprehensive
    (decision_id, status, tweet_id, posted_at, decision_type, content_slot, content,
     generation_source)
SELECT md5('p' || g)::uuid, 'posted', (4000000000 + g)::text,
       :'now'::timestamptz - (:rows - g) * (interval '365 days' / :rows) - interval '1 hour',
       (ARRAY['single', 'thread', 'reply'])[1 + g % 3], 'how_to',
       'Why do dashboards lie? Reply with yours.', 'xloop'
  FROM generate_series(1::bigint, :rows) g;
INSERT INTO public.outcomes (decision_id, tweet_id, impressions, likes, collected_at)
SELECT decision_id, tweet_id, 1000, 10, posted_at + interval '30 days'
  FROM public.content_generation_metadata_comprehensive
 WHERE posted_at < :'now'::timestamptz - interval '40 days';
INSERT INTO public.follower_snapshots (snapshot_at, follower_count, source)
SELECT :'now'::timestamptz - s * interval '20 minutes', 100000 - s, 'bench'
  FROM generate_series(0, 3 * 24 * 40) s;
ANALYZE;
CHECKPOINT;
CREATE TEMP VIEW newest AS
SELECT tweet_id, 500 + (right(tweet_id, 6)::int * 7) % 20000 AS impressions,
       right(tweet_id, 6)::int % 97 AS likes, right(tweet_id, 6)::int % 13 AS retweets,
       right(tweet_id, 6)::int % 7 AS replies
  FROM public.content_generation_metadata_comprehensive
 ORDER BY posted_at DESC LIMIT :records;
COPY (SELECT json_build_object('tweet_id', tweet_id, 'observed_at', :'now', 'impressions',
             impressions, 'likes', likes, 'retweets', retweets, 'replies', replies)
        FROM newest) TO :'jsonl';
COPY (SELECT 'm', tweet_id, :'now'::timestamptz, impressions, likes, retweets, replies,
             NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,
             NULL::bigint, NULL::bigint FROM newest) TO :'tsv';
