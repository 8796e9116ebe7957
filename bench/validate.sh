#!/usr/bin/env bash
# Benchmark of xloop-validate at several sizes of history: posts and replies
# (gen_learning.sql) with the draws and propensities plan logs (uniform draws
# over the default catalogue), an active map; wall time and peak RSS (medians
# of 3) next to the floor: a client-side binary COPY of the posts and replies
# it values (the newest validate.max_policy_posts of each in their windows).
# What validate adds to that read is the checks' aggregates and the bootstrap
# intervals, which do not grow with the history: time and memory stay flat.
# checks_s: the same with --checks (the checks alone, no valuing).
# A size is ROWS or ROWS/DAYS: the history spread over DAYS (90, every row in
# the windows: the worst case; 1000000/1095 is three years of a busy account).
#   bench/validate.sh [size ...]     (default: 10000 100000 1000000 1000000/1095)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
bench_in_cluster "$0" "$@"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000 1000000/1095)
now=2026-03-02T12:00:00Z
bin=${XLOOP_BENCH_BIN:-build/bin}
newest=10000 # validate.max_policy_posts
# what validate reads of the posts and replies it values
posts="SELECT c.features -> 'draws', o.primary_objective_score::float8, o.followers_gained_weighted::float8, c.posted_at
  FROM public.content_generation_metadata_comprehensive c JOIN public.outcomes o USING (decision_id)
 WHERE c.status = 'posted' AND c.tweet_id IS NOT NULL AND c.decision_type <> 'reply'
   AND c.posted_at > '$now'::timestamptz - interval '60 days' AND c.posted_at <= '$now'::timestamptz - interval '24 hours'
 ORDER BY c.posted_at DESC LIMIT $newest"
replies="SELECT c.features, o.primary_objective_score::float8, o.followers_gained_weighted::float8, c.posted_at
  FROM public.content_generation_metadata_comprehensive c JOIN public.outcomes o USING (decision_id)
 WHERE c.status = 'posted' AND c.tweet_id IS NOT NULL AND c.decision_type = 'reply'
   AND c.posted_at > '$now'::timestamptz - interval '90 days' AND c.posted_at <= '$now'::timestamptz - interval '24 hours'
 ORDER BY c.posted_at DESC LIMIT $newest"

printf '%-13s %10s %10s %7s %9s %10s\n' rows floor_s tool_s ratio peak_MiB checks_s
for size in "${sizes[@]}"; do
    n=${size%/*}
    days=90
    [ "$size" = "$n" ] || days=${size#*/}
    db="bench_validate_${n}_$days"
    dropdb --if-exists "$db"
    createdb "$db"
    "$bin/xloop-migrate" --db "dbname=$db" -q
    psql -q -d "$db" -v rows="$n" -v now="$now" -v days="$days" -f bench/gen_learning.sql
    # plan's log: each dimension drawn uniformly over the default catalogue
    psql -q -d "$db" <<'SQL'
CREATE FUNCTION pg_temp.draw(id uuid, salt text, vs text[]) RETURNS jsonb LANGUAGE sql AS
$$ SELECT jsonb_build_object('value', vs[1 + abs(hashtext(id::text || salt)) % cardinality(vs)],
                             'propensity', 1.0 / cardinality(vs), 'candidates', cardinality(vs)) $$;
UPDATE public.content_generation_metadata_comprehensive
   SET features = CASE WHEN decision_type = 'reply'
       THEN jsonb_build_object('propensity', 0.3, 'baseline_p', 0.2)
       ELSE jsonb_build_object('draws', jsonb_build_object(
           'content_slot', pg_temp.draw(decision_id, 's', '{myth_busting,how_to,hot_take,data_story,tool_tip,case_study}'),
           'generator_name', pg_temp.draw(decision_id, 'g', '{data_nerd,story_teller,contrarian}'),
           'topic', pg_temp.draw(decision_id, 't', '{sql,dashboards,data_quality,analytics_engineering,metrics}'),
           'tone', pg_temp.draw(decision_id, 'o', '{calm,bold,curious,friendly}'),
           'hook_type', pg_temp.draw(decision_id, 'h', '{question,statistic,contrarian,story,reveal,statement}'),
           'cta_type', pg_temp.draw(decision_id, 'c', '{engagement,question,none}'),
           'decision_type', pg_temp.draw(decision_id, 'd', '{single,thread}'))) END;
VACUUM ANALYZE public.content_generation_metadata_comprehensive;
SQL
    "$bin/xloop-build-weights" --db "dbname=$db" --now "$now" -q
    read -r floor fs _ < <(measure sh -c "psql -q -d $db -c \"COPY ($posts) TO STDOUT (FORMAT binary)\" >/dev/null && psql -q -d $db -c \"COPY ($replies) TO STDOUT (FORMAT binary)\" >/dev/null")
    # validate exits 1 here (no job has run): its time still counts
    read -r tool ts rss < <(measure sh -c "\"$bin/xloop-validate\" --db dbname=$db --now $now -q >/dev/null || true")
    read -r checks cs _ < <(measure sh -c "\"$bin/xloop-validate\" --db dbname=$db --now $now -q --checks >/dev/null || true")
    printf '%-13s %10s %10s %7s %9s %10s\n' "$size" "$floor±$fs" "$tool±$ts" \
        "$(ratio "$tool" "$floor")" "$rss" "$checks±$cs"
    summary validate "$n rows over $days days" "$floor" "$tool" "$(ratio "$tool" "$floor")" \
        "flat; ≤ 64 MiB" "$rss"
    dropdb "$db"
done
