-- xloop.vw_learning gains scheduled_at, the time plan chose for a post:
-- build-weights learns post_hour by it, so a poster on its own cron that
-- publishes a 17:45 post at 18:00 does not move the post to an hour plan
-- never draws (the rest of the view is 0007's).


SELECT xloop.replace_view('xloop.vw_learning', $view$
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
       (o.primary_objective_score IS NOT NULL) AS has_v2_metrics,
       o.follows,
       c.scheduled_at
  FROM public.content_generation_metadata_comprehensive c
  LEFT JOIN public.outcomes o ON o.decision_id = c.decision_id
 WHERE c.status = 'posted'
   AND c.tweet_id IS NOT NULL
$view$);
