-- Generates :rows pending reply opportunities found in the 3 hours before
-- :'now', by :accounts authors (mixed-case, some with '@'), most of them known
-- in discovered_accounts with a priority, and :history past replies to them.
-- psql -v rows=100000 -v accounts=10000 -v history=0 -v now=2026-03-02T12:00:00Z -f bench/gen_opportunities.sql
\set ON_ERROR_STOP on
SET synchronous_commit = off;

INSERT INTO public.discovered_accounts (username, follower_count, priority_score)
SELECT 'author_' || a, 100 + a % 5000, round(((a * 7919) % 1000) / 1000.0, 6)
  FROM generate_series(0, :accounts - 1) a WHERE a % 10 <> 0;

INSERT INTO public.reply_opportunities (tweet_id, tweet_author, tweet_content,
                                        opportunity_score, status, discovered_at)
SELECT (5000000000 + g)::text,
       CASE WHEN g % 7 = 0 THEN '@Author_' ELSE 'author_' END || ((g * 104729) % :accounts),
       'An opportunity worth a reply, number ' || g || ', with some text to carry.',
       round(((g * 31) % 1000) / 1000.0, 3), 'pending',
       :'now'::timestamptz - ((g * 7) % 10000) * interval '1 second'
  FROM generate_series(1::bigint, :rows) g;

INSERT INTO public.content_generation_metadata_comprehensive
    (status, tweet_id, posted_at, created_at, decision_type, content_slot, target_username,
     generation_source, content)
SELECT 'posted', (7000000000 + g)::text,
       :'now'::timestamptz - interval '2 days' - (g % 86400) * interval '1 second',
       :'now'::timestamptz - interval '2 days' - (g % 86400) * interval '1 second',
       'reply', 'reply', 'author_' || ((g * 7919) % :accounts), 'xloop', 'An old reply'
  FROM generate_series(1::bigint, :history) g;
ANALYZE;
