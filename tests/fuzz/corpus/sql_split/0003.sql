-- content_metadata exposes every column of the base table; vw_learning is one
-- row per posted decision joined to its outcome. Both are replaced together
-- with every view that depends on them, grants included (see 0001).
-- "SELECT *" is expanded when the view is created: a later migration that adds
-- base-table columns must call xloop.replace_view for content_metadata again.

SELECT xloop.replace_view('public.content_metadata',
    'SELECT * FROM public.content_generation_metadata_comprehensive');

-- age_* use now(): they are for people reading the view; the tools compute
-- ages from --now instead.
SELECT xloop.replace_view('public.vw_learning', $view$
SELECT c.id,
       c.decision_id,
       c.tweet_id,
       c.decision_type,
       c.content_slot,
       c.generator_name,
       c.generation_source,
       c.raw_topic AS topic,
       c.tone,
       c.angle,
       COALESCE(o.hook_type, c.hook_type) AS hook_type,
       COALESCE(o.cta_type, c.cta_type) AS cta_type,
       COALESCE(o.structure_type, c.structure_type) AS structure_type,
       c.target_username,
       c.target_tweet_id,
       c.content,
       c.features,
       c.created_at,
       c.posted_at,
       o.impressions,
       o.views,
       o.likes,
       o.retweets,
       o.replies,
       o.quotes,
       o.bookmarks,
       o.profile_clicks,
       o.engagement_rate,
       o.followers_gained,
       o.followers_before,
       o.followers_after,
       o.followers_gained_weighted,
       o.primary_objective_score,
       o.attribution_confidence,
       o.collected_at,
       o.data_source,
       COALESCE(o.simulated, false) AS simulated,
       EXTRACT(EPOCH FROM (now() - c.posted_at)) / 3600.0 AS age_hours,
       EXTRACT(EPOCH FROM (now() - c.posted_at)) / 86400.0 AS age_days,
       (o.id IS NOT NULL) AS has_metrics,
       (o.primary_objective_score IS NOT NULL) AS has_v2_metrics
  FROM public.content_metadata c
  LEFT JOIN public.outcomes o ON o.decision_id = c.decision_id
 WHERE c.status = 'posted'
   AND c.tweet_id IS NOT NULL
$view$);
