-- The original bot's database at scale, on top of tests/fixtures/original_bot.sql
-- (its tables and quirks): :rows posts and replies over the last :rows
-- minutes, an outcome of the bot's for each one posted (metrics, no v2
-- score), hourly follower snapshots, accounts and reply opportunities.
-- Deterministic: the same rows for the same :rows.
INSERT INTO content_generation_metadata_comprehensive
    (decision_id, content, generator_name, hook_type, status, posted_at, tweet_id,
     decision_type, raw_topic, tone, quality_score, created_at)
SELECT md5('post ' || g)::uuid,
       'post text number ' || g || ' about something worth reading',
       (ARRAY['dataNerd', 'storyteller', 'contrarian'])[1 + g % 3],
       (ARRAY['question', 'stat', 'story', 'contrarian'])[1 + g % 4],
       CASE WHEN g % 50 = 0 THEN 'queued' ELSE 'posted' END,
       CASE WHEN g % 50 = 0 THEN NULL ELSE now() - make_interval(mins => g) END,
       CASE WHEN g % 50 = 0 THEN NULL ELSE (1800000000000000000 + g)::text END,
       CASE WHEN g % 4 = 0 THEN 'reply' WHEN g % 4 = 1 THEN 'thread' ELSE 'single' END,
       'topic ' || (g % 5000), (ARRAY['calm', 'bold'])[1 + g % 2], (g % 100) / 10.0,
       now() - make_interval(mins => g) - interval '1 hour'
  FROM generate_series(1, :rows) g;

INSERT INTO outcomes (decision_id, tweet_id, impressions, likes, retweets, replies,
                      engagement_rate, collected_at)
SELECT decision_id, tweet_id, 1000 + id % 777, id % 37, id % 11, id % 7,
       0.01 + (id % 100) / 10000.0, posted_at + interval '2 days'
  FROM content_generation_metadata_comprehensive
 WHERE length(tweet_id) = 19; -- this script's posts, not the fixture's

INSERT INTO follower_snapshots ("timestamp", follower_count)
SELECT now() - make_interval(hours => g), 100000 - g
  FROM generate_series(1, greatest(:rows / 60, 1)) g;

INSERT INTO discovered_accounts (username, follower_count, priority_score, bio)
SELECT 'user_' || g, g, 0, 'bio' FROM generate_series(1, greatest(:rows / 10, 1)) g;

INSERT INTO reply_opportunities (tweet_id, tweet_author, opportunity_score, status)
SELECT (1900000000000000000 + g)::text, 'user_' || (g % greatest(:rows / 10, 1)),
       (g % 100) / 100.0, CASE WHEN g % 3 = 0 THEN 'pending' ELSE 'done' END
  FROM generate_series(1, greatest(:rows / 3, 1)) g;

VACUUM ANALYZE;
