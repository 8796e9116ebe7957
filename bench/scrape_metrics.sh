#!/usr/bin/env bash
# Benchmark of xloop-scrape-metrics --source file: 100 000 posts' metrics into a
# database holding 1 000 000 posts (or the sizes given). Wall time and peak
# RSS (medians of 3, each run on a fresh copy of the database), and the ratios
# to two floors measured in the same run: a client-side COPY FROM STDIN of the
# same records into a table with the same columns, and the writes the tool
# cannot avoid as hand-written set-based SQL.
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
# A cron run, not the first: the first on a database also scores the stored
# outcomes as far back as the learners read (timed once, below).
psql -q -d "$db" -c "INSERT INTO xloop.job_runs (job, started_at, finished_at, status)
    VALUES ('scrape-metrics', '$now'::timestamptz - interval '1 hour',
            '$now'::timestamptz - interval '1 hour', 'ok')"
psql -q -d "$db" -c "CREATE TABLE bare (kind text, tweet_id text, observed_at timestamptz,
    impressions bigint, likes bigint, retweets bigint, replies bigint, quotes bigint,
    bookmarks bigint, profile_clicks bigint, follows bigint, followers bigint,
    following bigint, tweets bigint)"
copy_floor="psql -q -d $db -c \"TRUNCATE bare\" -c \"\\copy bare FROM '$work/metrics.tsv'\""
read -r floor floor_spread _ < <(measure sh -c "$copy_floor")
# The second floor: the writes the tool cannot avoid, in bare SQL: the
# records' counts upserted into outcomes and copied to the base table's
# actual_* columns (no v2 values, no checks).
cat >"$work/writes.sql" <<SQL
BEGIN;
CREATE TEMP TABLE i (LIKE bare) ON COMMIT DROP;
\\copy i FROM '$work/metrics.tsv'
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
# Every timed run starts from the same state: a fresh copy of the database,
# warmed and checkpointed (the copy is not part of the time; it writes the
# whole database to the WAL, and the checkpoint that follows would otherwise
# land in whichever run comes next).
fresh() {
    dropdb --if-exists "${db}_run"
    createdb -T "$db" "${db}_run"
    psql -q -d "${db}_run" -c "CHECKPOINT" -c "SELECT pg_prewarm(c.oid) FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i')" >/dev/null
}
psql -q -d "$db" -c "CREATE EXTENSION pg_prewarm"
timed() { # label command...: median of 3 fresh runs
    local f t m rss=0 times=()
    f="$work/time"
    for _ in 1 2 3; do
        fresh
        /usr/bin/time -f '%e %M' -o "$f" "$@" >/dev/null 2>>"$work/log"
        read -r t m <"$f"
        times+=("$t")
        [ $((m / 1024)) -gt "$rss" ] && rss=$((m / 1024))
    done
    printf '%s\n' "${times[@]}" | sort -g | awk -v rss="$rss" \
        '{ v[NR] = $1 } END { printf "%s %.2f %s\n", v[2], v[3] - v[1], rss }'
}
read -r writes writes_spread _ < <(timed psql -q -d "${db}_run" -f "$work/writes.sql")
read -r tool tool_spread rss < <(timed "$bin/xloop-scrape-metrics" --db "dbname=${db}_run" \
    --source file --input "$work/metrics.jsonl" --now "$now" -v)
# a rerun of the same file on the last copy: nothing has changed
again=$( { /usr/bin/time -f '%e' "$bin/xloop-scrape-metrics" --db "dbname=${db}_run" \
    --source file --input "$work/metrics.jsonl" --now "$now" -q; } 2>&1 )
# the first run on a database (the bot's, adopted): the same records, and
# every stored outcome of the learners' reach scored
fresh
psql -q -d "${db}_run" -c "DELETE FROM xloop.job_runs WHERE job = 'scrape-metrics'"
read -r first first_rss < <( { /usr/bin/time -f '%e %M' \
    "$bin/xloop-scrape-metrics" --db "dbname=${db}_run" --source file \
    --input "$work/metrics.jsonl" --now "$now" -q; } 2>&1 | tail -1)
first="$first ($((first_rss / 1024)) MiB)"
# Replies that name no account (the generator names none), half of the last
# 90 days' with an opportunity that names its author: a run names those,
# the next reads the rest again (kept in cgmc_unnamed_reply_idx) and names
# none; the usual run above had no opportunity to match (one index probe).
fresh
psql -q -d "${db}_run" <<SQL
UPDATE public.content_generation_metadata_comprehensive SET target_tweet_id = '7' || tweet_id
 WHERE decision_type = 'reply' AND posted_at > '$now'::timestamptz - interval '90 days';
INSERT INTO public.reply_opportunities (tweet_id, tweet_author, status)
SELECT target_tweet_id, 'author_' || (tweet_id::bigint % 5000), 'replied'
  FROM public.content_generation_metadata_comprehensive
 WHERE target_tweet_id IS NOT NULL AND tweet_id::bigint % 2 = 0;
VACUUM ANALYZE;
CHECKPOINT;
SQL
naming() {
    { /usr/bin/time -f '%e' "$bin/xloop-scrape-metrics" --db "dbname=${db}_run" \
        --source file --input "$work/metrics.jsonl" --now "$now" --json \
        >"$work/naming.json"; } 2>&1 | tail -1
}
naming_s=$(naming)
named=$(grep -o '"reply_targets_from_opportunities": *[0-9]*' "$work/naming.json" |
    grep -o '[0-9]*$')
naming_again_s=$(naming)
printf '%-9s %-9s %12s %14s %12s %8s %8s %7s %12s %9s\n' posts records copy_floor_s \
    writes_floor_s tool_s rerun_s first_s ratio ratio_writes peak_MiB
printf '%-9s %-9s %12s %14s %12s %8s %8s %7s %12s %9s\n' "$posts" "$records" \
    "$floor±$floor_spread" "$writes±$writes_spread" "$tool±$tool_spread" "$again" "$first" \
    "$(ratio "$tool" "$floor")" "$(ratio "$tool" "$writes")" "$rss"
summary scrape-metrics "$records records into $posts posts" "$floor (COPY)" "$tool" \
    "$(ratio "$tool" "$floor")" "≤ 5" "$rss"
summary scrape-metrics "$records records into $posts posts" "$writes (SQL writes)" "$tool" \
    "$(ratio "$tool" "$writes")" "≤ 1" "$rss"
echo "naming replies from their opportunities: $named named in a run of ${naming_s} s; \
the next run (nothing left to name) ${naming_again_s} s"
grep -E "took|v2 pass" "$work/log" | tail -5 | sed "s/^[^ ]* //"
dropdb "${db}_run"
dropdb "$db"
