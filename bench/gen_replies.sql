-- Generates :rows posted replies with v2 outcomes over the 40 days before
-- :'now', spread over :accounts target accounts (mixed-case spellings), and a
-- discovered_accounts table holding 90 % of those accounts plus others.
-- psql -v rows=1000000 -v accounts=100000 -v now=2026-03-02T12:00:00Z -f bench/gen_replies.sql
\set ON_ERROR_STOP on
SET synchronous_commit = off;

INSERT INTO public.content_generation_metadata_comprehensive
    (decision_id, status, tweet_id, posted_at, decision_type, content_slot, target_username,
     target_tweet_id, generation_source, content)
SELECT md5('r' || g)::uuid, 'posted', (2000000000 + g)::text,
       :'now'::timestamptz - ((g * 104729) % 3456000) * interval '1 second',
       'reply', 'reply',
       CASE WHEN g % 5 = 0 THEN 'Account_' ELSE 'account_' END || ((g * 7919) % :accounts),
       (3000000000 + g)::text, 'xloop', 'A generated reply'
  FROM generate_series(1::bigint, :rows) g;

INSERT INTO public.outcomes (decision_id, tweet_id, impressions, likes, engagement_rate,
                             followers_gained_weighted, primary_objective_score,
                             collected_at, data_source, simulated)
SELECT md5('r' || g)::uuid, (2000000000 + g)::text, 100 + (g * 31) % 5000, (g * 7) % 50,
       0.01, (g * 3) % 10,
       round((0.02 + ((g * 7919) % :accounts) % 97 / 400.0 + (g % 13) / 100.0)::numeric, 6),
       :'now'::timestamptz, 'bench', true
  FROM generate_series(1::bigint, :rows) g;

INSERT INTO public.discovered_accounts (username, follower_count)
SELECT 'account_' || a, 100 + a % 5000 FROM generate_series(0, :accounts - 1) a WHERE a % 10 <> 0
UNION ALL
SELECT 'other_' || a, 50 FROM generate_series(0, :accounts / 10) a;

ANALYZE;
CHECKPOINT;
