#!/usr/bin/env bash
# Benchmark of xloop-scrape-metrics --source file: 100 000 posts' metrics into a
# database holding 1 000 000 posts (or the sizes given). Wall time and peak
# RSS, and the ratio to a bare COPY of the same records into a table with the
# same columns, in the same run.
#   bench/scrape_metrics.sh [posts records]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
bench_in_cluster "$0" "$@"
posts=${1:-1000000}
records=${2:-100000}
now=2026-03-02T12:00:00Z
bin=build/bin
work=$(mktemp -d /tmp/xloop-bench-XXXXXX)
chmod 777 "$work"
trap 'rm -rf "$work"' EXIT
db=bench_scrape
dropdb --if-exists "$db"
createdb "$db"
"$bin/xloop-migrate" --db "dbname=$db" -q
psql -q -d "$db" -v rows="$posts" -v records="$records" -v now="$now" \
    -v jsonl="$work/metrics.jsonl" -v tsv="$work/metrics.tsv" -f bench/gen_posts.sql
psql -q -d "$db" -c "CREATE TABLE bare (kind text, tweet_id text, observed_at timestamptz,
    impressions bigint, likes bigint, retweets bigint, replies bigint, quotes bigint,
    bookmarks bigint, profile_clicks bigint, follows bigint, followers bigint,
    following bigint, tweets bigint)"
floor=$( { /usr/bin/time -f '%e' psql -q -d "$db" -c "COPY bare FROM '$work/metrics.tsv'"; } 2>&1 )
# A second floor: the writes the tool cannot avoid, in bare SQL on a copy of
# the database: the records' counts upserted into outcomes and copied to the
# base table's actual_* columns (no v2 values, no checks).
createdb -T "$db" "${db}_sql"
psql -q -d "${db}_sql" -c "CREATE EXTENSION pg_prewarm" -c "SELECT pg_prewarm(c.oid)
    FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i')" \
    >/dev/null
writes=$( { /usr/bin/time -f '%e' psql -q -d "${db}_sql" <<SQL; } 2>&1
BEGIN;
CREATE TEMP TABLE i (LIKE bare) ON COMMIT DROP;
COPY i FROM '$work/metrics.tsv';
INSERT INTO public.outcomes AS o (decision_id, tweet_id, impressions, likes, retweets,
       replies, collected_at)
SELECT c.decision_id, i.tweet_id, i.impressions, i.likes, i.retweets, i.replies,
       i.observed_at
  FROM i JOIN public.content_generation_metadata_comprehensive c USING (tweet_id)
ON CONFLICT (decision_id) DO UPDATE SET impressions = EXCLUDED.impressions,
   likes = EXCLUDED.likes, retweets = EXCLUDED.retweets, replies = EXCLUDED.replies,
   collected_at = EXCLUDED.collected_at;
UPDATE public.content_generation_metadata_comprehensive c
   SET actual_impressions = i.impressions, actual_likes = i.likes,
       actual_retweets = i.retweets, actual_replies = i.replies,
       metrics_collected_at = i.observed_at
  FROM i WHERE c.tweet_id = i.tweet_id;
COMMIT;
SQL
)
dropdb "${db}_sql"
/usr/bin/time -f '%e %M' -o "$work/time" "$bin/xloop-scrape-metrics" --db "dbname=$db" \
    --source file --input "$work/metrics.jsonl" --now "$now" -v --json 2>"$work/log" \
    > "$work/out.json"
read -r tool rss <"$work/time"
again=$( { /usr/bin/time -f '%e' "$bin/xloop-scrape-metrics" --db "dbname=$db" --source file \
    --input "$work/metrics.jsonl" --now "$now" -q; } 2>&1 )
printf '%-9s %-9s %8s %9s %8s %10s %7s %12s %9s\n' posts records floor_s writes_s \
    tool_s rerun_s ratio ratio_writes peak_MiB
printf '%-9s %-9s %8s %9s %8s %10s %7s %12s %9s\n' "$posts" "$records" "$floor" "$writes" \
    "$tool" "$again" "$(awk "BEGIN{printf \"%.2f\", $tool / $floor}")" \
    "$(awk "BEGIN{printf \"%.2f\", $tool / $writes}")" "$((rss / 1024))"
grep -E "took|v2 pass" "$work/log" | sed "s/^[^ ]* //"
grep -E '"(outcomes_written|v2_updated)"' "$work/out.json" | tr -d ' ,'
dropdb "$db"
