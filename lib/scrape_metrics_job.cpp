#include "scrape_metrics_job.hpp"

#include "app.hpp"

#include "attribution.hpp"
#include "classify.hpp"
#include "copy_row.hpp"
#include "log.hpp"
#include "metrics_file.hpp"
#include "x_api.hpp"

#include <array>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace xloop {

namespace {

// Logs how long a phase took (at -v), for operators tuning a large database.
class phase_timer {
public:
    explicit phase_timer(char const* name)
        : m_name(name), m_start(std::chrono::steady_clock::now())
    {}
    long elapsed_ms() const
    {
        return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - m_start)
                                     .count());
    }
    ~phase_timer()
    {
        log::debug("{} took {} ms", m_name,
                   std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - m_start)
                       .count());
    }

private:
    char const* m_name;
    std::chrono::steady_clock::time_point m_start;
};

// Below this many rows a temp table is not analysed: the planner's estimate
// from its pages is good enough, and ANALYZE would cost more than the writes
// (a cron run every 20 minutes writes a few hundred rows).
constexpr std::int64_t analyze_min_rows = 1000;

// Raw records of one batch; cleared at each commit.
constexpr char const* create_inbox = R"sql(
CREATE TEMP TABLE IF NOT EXISTS xloop_metrics_in (
    kind text NOT NULL,              -- 'm': a post's metrics, 'f': follower counts
    tweet_id text, observed_at timestamptz NOT NULL,
    impressions bigint, likes bigint, retweets bigint, replies bigint, quotes bigint,
    bookmarks bigint, profile_clicks bigint, follows bigint,
    followers bigint, following bigint, tweets bigint
) ON COMMIT DELETE ROWS)sql";

// The posts the v2 pass writes: posted, on X, and posted in (from, to]. A
// record for one of them is merged into its outcome there, so each row is
// written once per run; records for other posts go through apply_inbox.
std::string v2_range(std::string_view from, std::string_view to)
{
    return fmt::format("c.status = 'posted' AND c.tweet_id IS NOT NULL AND c.posted_at > "
                       "{} AND c.posted_at <= {}",
                       from, to);
}

// Whether a record (its columns under `r`, observed at `observed`, from
// `source`) replaces outcome o's counts: a newer observation does, an older
// one never; at the same time, one that changes something does.
std::string record_replaces(std::string_view r, std::string_view observed,
                            std::string_view source)
{
    return fmt::format(R"sql(
(o.collected_at IS NULL OR o.collected_at < {1}
 OR (o.collected_at = {1}
     AND (o.impressions, o.likes, o.retweets, o.replies, o.quotes, o.bookmarks,
          o.profile_clicks, o.follows, o.data_source)
         IS DISTINCT FROM
         (coalesce({0}.impressions, o.impressions), coalesce({0}.likes, o.likes),
          coalesce({0}.retweets, o.retweets), coalesce({0}.replies, o.replies),
          coalesce({0}.quotes, o.quotes), coalesce({0}.bookmarks, o.bookmarks),
          coalesce({0}.profile_clicks, o.profile_clicks),
          coalesce({0}.follows, o.follows), {2}))))sql",
                       r, observed, source);
}

// One upsert per batch: the newest record of each decision, where it replaces
// the stored counts; unknown counts keep their value. `filter` is a further
// condition on c (the posts this call applies). The inbox is joined to the
// posts once: the same pass counts the records of unknown tweets (the number
// written, the number unknown, five of their ids).
std::string apply_inbox(std::string_view filter)
{
    return fmt::format(
        R"sql(
WITH r AS MATERIALIZED (
    SELECT i.*, c.decision_id, c.decision_id IS NOT NULL AND ({}) AS apply
      FROM xloop_metrics_in i
      LEFT JOIN public.content_generation_metadata_comprehensive c
             ON c.tweet_id = i.tweet_id
     WHERE i.kind = 'm'),
w AS (
INSERT INTO public.outcomes AS o
    (decision_id, tweet_id, impressions, views, likes, retweets, replies, quotes, bookmarks,
     profile_clicks, follows, collected_at, data_source, simulated)
SELECT DISTINCT ON (r.decision_id)
       r.decision_id, r.tweet_id, r.impressions, r.impressions, r.likes, r.retweets,
       r.replies, r.quotes, r.bookmarks, r.profile_clicks, r.follows, r.observed_at, $1, false
  FROM r
 WHERE r.apply
 ORDER BY r.decision_id, r.observed_at DESC
ON CONFLICT (decision_id) DO UPDATE SET
    tweet_id       = EXCLUDED.tweet_id,
    impressions    = coalesce(EXCLUDED.impressions, o.impressions),
    views          = coalesce(EXCLUDED.views, o.views),
    likes          = coalesce(EXCLUDED.likes, o.likes),
    retweets       = coalesce(EXCLUDED.retweets, o.retweets),
    replies        = coalesce(EXCLUDED.replies, o.replies),
    quotes         = coalesce(EXCLUDED.quotes, o.quotes),
    bookmarks      = coalesce(EXCLUDED.bookmarks, o.bookmarks),
    profile_clicks = coalesce(EXCLUDED.profile_clicks, o.profile_clicks),
    follows        = coalesce(EXCLUDED.follows, o.follows),
    collected_at   = EXCLUDED.collected_at,
    data_source    = EXCLUDED.data_source
WHERE {}
RETURNING 1)
SELECT (SELECT count(*) FROM w), count(*) FILTER (WHERE r.decision_id IS NULL),
       (array_agg(r.tweet_id ORDER BY r.tweet_id) FILTER (WHERE r.decision_id IS NULL))[1:5]
  FROM r)sql",
        filter,
        record_replaces("EXCLUDED", "EXCLUDED.collected_at", "EXCLUDED.data_source"));
}

constexpr char const* apply_followers = R"sql(
INSERT INTO public.follower_snapshots
    (snapshot_at, follower_count, following_count, tweet_count, source)
SELECT DISTINCT ON (i.observed_at) i.observed_at, i.followers, i.following, i.tweets, $1
  FROM xloop_metrics_in i
 WHERE i.kind = 'f'
   AND NOT EXISTS (SELECT 1 FROM public.follower_snapshots s
                    WHERE s.snapshot_at = i.observed_at)
 ORDER BY i.observed_at)sql";

// Posted, not deleted, within the scrape window, past an age checkpoint not yet
// scraped; oldest due first.
constexpr char const* select_due = R"sql(
WITH due AS (
    SELECT c.tweet_id,
           c.posted_at + make_interval(secs => 3600 * (
               SELECT max(a) FROM unnest($3::float8[]) a
                WHERE c.posted_at + make_interval(secs => 3600 * a) <= $1::timestamptz))
               AS due_at,
           o.collected_at
      FROM public.content_generation_metadata_comprehensive c
      LEFT JOIN public.outcomes o ON o.decision_id = c.decision_id
     WHERE c.status = 'posted' AND c.tweet_id IS NOT NULL AND c.metrics_gone_at IS NULL
       AND c.posted_at > $1::timestamptz - make_interval(days => $2::int)
       AND c.posted_at <= $1::timestamptz)
SELECT tweet_id FROM due
 WHERE due_at IS NOT NULL AND (collected_at IS NULL OR collected_at < due_at)
 GROUP BY tweet_id
 ORDER BY min(due_at), tweet_id
 LIMIT $4)sql";

// Short repeated strings (types, sources) stored once; views stay valid
// because set nodes never move.
class string_pool {
public:
    std::string_view operator()(std::string_view s) { return *m_pool.emplace(s).first; }

private:
    std::unordered_set<std::string> m_pool;
};

// A uuid as COPY text reads it, from the 16 bytes of binary COPY.
std::string_view uuid_text(std::array<unsigned char, 16> const& id, char (&out)[36])
{
    constexpr char const* hex = "0123456789abcdef";
    std::size_t k = 0;
    for (std::size_t i = 0; i < id.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[k++] = '-';
        }
        out[k++] = hex[id[i] >> 4];
        out[k++] = hex[id[i] & 0xf];
    }
    return {out, sizeof out};
}

// One outcome the v2 pass writes: kept small, there is one per post of the
// last month.
struct v2_post {
    std::array<unsigned char, 16> decision_id;
    std::size_t index; // into the attribution inputs
    post_counts counts;
    std::optional<std::int64_t> follows, views;
    std::optional<timestamp> collected_at;
    std::string_view hook, cta, structure;
    std::optional<std::string_view> data_source;
    std::optional<std::string> tweet_id;
};

struct scrape_counts {
    std::int64_t records = 0;
    std::int64_t followers = 0;
    std::int64_t written = 0;
    std::int64_t unknown = 0;
    std::int64_t gone = 0;
    std::int64_t failed = 0;
};

// One transaction per batch; in a dry run everything happens in one
// transaction that is rolled back. Each transaction sets up what it uses
// itself (settings, the inbox): through a transaction-mode pooler the next
// one may run on another server connection.
class batch_transactions {
public:
    batch_transactions(run_context& run) : m_run(run) { begin(); }
    void commit()
    {
        if (!m_run.dry_run()) {
            m_run.renew_lease(); // throws (and rolls back) if another run took it
            m_tx->commit();
            begin();
        }
    }

private:
    void begin()
    {
        m_tx = std::make_unique<transaction>(m_run.db());
        // JIT compiling the set-based statements costs more than it saves
        // (0.15 s a statement at 10⁵ records).
        m_run.db().exec("SET LOCAL jit = off");
        m_run.db().exec(create_inbox);
    }

    run_context& m_run;
    std::unique_ptr<transaction> m_tx;
};

// One inbox row of a post's metrics ('m').
void add_metrics_row(copy_writer& w, std::string_view tweet_id, timestamp observed_at,
                     post_counts const& c, std::optional<std::int64_t> follows)
{
    w.add(std::string_view{"m"});
    w.add(tweet_id);
    w.add(observed_at);
    for (auto const& v : {c.impressions, c.likes, c.retweets, c.replies, c.quotes,
                          c.bookmarks, c.profile_clicks, follows}) {
        w.add(v);
    }
    for (int i = 0; i < 3; ++i) {
        w.add_null();
    }
    w.end_row();
}

// One inbox row of the account's counts ('f').
void add_follower_row(copy_writer& w, timestamp observed_at, std::int64_t followers,
                      std::optional<std::int64_t> following,
                      std::optional<std::int64_t> tweets)
{
    w.add(std::string_view{"f"});
    w.add_null();
    w.add(observed_at);
    for (int i = 0; i < 8; ++i) {
        w.add_null();
    }
    w.add(followers);
    w.add(following);
    w.add(tweets);
    w.end_row();
}

// The posts whose v2 values a run writes: posted after write_from. Those
// posted since posts_from are read too, as context for sharing gains.
struct v2_window {
    timestamp write_from;
    timestamp posts_from;
};

v2_window v2_window_of(run_context const& run)
{
    auto const& m = run.cfg().metrics;
    auto const write_from =
        run.now() - fractional_hours(24 * (std::ceil(m.max_age_days) + 1));
    return {write_from, write_from - fractional_hours(m.attribution_window_hours)};
}

// Applies the batch in the inbox and empties it; reports records of unknown
// tweets. With `keep_v2_range`, the records of posts in the v2 range stay in
// the inbox for the v2 pass, which merges them into the one write of their
// outcome (the file source: one batch, large).
void apply_batch(run_context& run, std::string const& source, scrape_counts& n,
                 bool keep_v2_range = false)
{
    auto& db = run.db();
    phase_timer timer{"applying the batch"};
    n.followers += db.exec(apply_followers, source).affected_rows();
    auto const applied =
        keep_v2_range ? db.exec(apply_inbox(fmt::format(
                                    "({}) IS NOT TRUE",
                                    v2_range("$2::timestamptz", "$3::timestamptz"))),
                                source, v2_window_of(run).write_from, run.now())
                      : db.exec(apply_inbox("true"), source);
    n.written += applied.i64(0, 0);
    if (auto const k = applied.i64(0, 1); k > 0) {
        n.unknown += k;
        log::warn(
            "{} records for tweet ids not in content_generation_metadata_comprehensive "
            "skipped (e.g. {})",
            k, applied.str(0, 2));
    }
    if (!keep_v2_range) {
        db.exec("DELETE FROM xloop_metrics_in");
    }
}

void from_file(run_context& run, scrape_options const& opts, scrape_counts& n)
{
    auto& db = run.db();
    std::ifstream file;
    std::istream* in = &std::cin;
    std::string name = "stdin";
    if (opts.input && *opts.input != "-") {
        file.open(*opts.input);
        if (!file) {
            throw data_error{fmt::format("--input: cannot read '{}'", *opts.input)};
        }
        in = &file;
        name = *opts.input;
    }
    std::vector<bad_line> bad;
    {
        phase_timer timer{"reading the file"};
        // Streamed into the inbox as read; a bad line (strict) aborts the COPY
        // and the transaction: nothing is written.
        copy_writer w{db, "COPY xloop_metrics_in FROM STDIN"};
        bad = read_metrics_file(
            *in, name, opts.skip_bad,
            {[&](metrics_record const& r) {
                 add_metrics_row(w, r.tweet_id, r.observed_at, r.counts, r.follows);
                 ++n.records;
             },
             [&](follower_record const& r) {
                 add_follower_row(w, r.observed_at, r.followers, r.following, r.tweets);
                 ++n.records;
             }},
            run.now() + fractional_hours(run.cfg().metrics.max_clock_skew_minutes / 60));
        w.finish();
    }
    // A large inbox: give the planner its size and spread.
    if (n.records >= analyze_min_rows) {
        db.exec("ANALYZE xloop_metrics_in");
    }
    for (auto const& b : bad) {
        log::warn("{}:{}: skipped: {}", name, b.line, b.reason);
    }
    run.summary()["skipped_lines"] = bad.size();
    // One transaction with the v2 pass, which merges the rest of the inbox.
    apply_batch(run, "file", n, true);
}

// Returns the rate-limit error to rethrow after the v2 pass, if one stopped it.
std::optional<temporary_failure> from_x_api(run_context& run, scrape_options const& opts,
                                            batch_transactions& txs, scrape_counts& n)
{
    auto& db = run.db();
    auto const& m = run.cfg().metrics;
    x_api_client api{run.cfg().x_api, x_api_token(run.cfg().x_api)};
    try {
        auto const me = api.fetch_me();
        {
            copy_writer w{db, "COPY xloop_metrics_in FROM STDIN"};
            add_follower_row(w, run.now(), me.followers, me.following, me.tweets);
            w.finish();
        }
        apply_batch(run, "x-api", n);
        txs.commit();

        // One day beyond max_age_days so the last checkpoint (30 d) is caught.
        auto const due = db.exec(select_due, run.now(),
                                 static_cast<int>(std::ceil(m.max_age_days)) + 1,
                                 m.due_ages_hours, opts.max_posts.value_or(m.max_posts));
        run.summary()["due"] = due.rows();
        log::info("{} posts are due for metrics", due.rows());
        for (int start = 0; start < due.rows(); start += m.batch_size) {
            run.check_interrupted();
            std::vector<std::string> ids;
            for (int i = start; i < std::min(due.rows(), start + m.batch_size); ++i) {
                ids.push_back(due.str(i, 0));
            }
            auto const page = api.fetch_tweets(ids);
            {
                copy_writer w{db, "COPY xloop_metrics_in FROM STDIN"};
                for (auto const& t : page.found) {
                    add_metrics_row(w, t.id, run.now(), t.counts, std::nullopt);
                    ++n.records;
                }
                w.finish();
            }
            apply_batch(run, "x-api", n);
            if (!page.gone.empty()) {
                n.gone +=
                    db.exec("UPDATE public.content_generation_metadata_comprehensive SET "
                            "metrics_gone_at = $1::timestamptz WHERE tweet_id IN (SELECT "
                            "jsonb_array_elements_text($2::jsonb)) AND metrics_gone_at "
                            "IS NULL",
                            run.now(), nlohmann::json(page.gone).dump())
                        .affected_rows();
                log::info(
                    "{} posts no longer exist on X; they will not be asked for again",
                    page.gone.size());
            }
            n.failed += static_cast<std::int64_t>(page.failed.size());
            txs.commit();
        }
    } catch (interrupted const&) {
        throw; // a signal: stop now, recorded as interrupted
    } catch (temporary_failure const& e) {
        // The API said stop (429, outage): keep the batches written, compute
        // their v2 metrics, then exit 75.
        run.summary()["x_api_requests"] = api.requests();
        return e;
    }
    run.summary()["x_api_requests"] = api.requests();
    return std::nullopt;
}

// The newest inbox record of each tweet, as the v2 pass merges it.
constexpr char const* newest_records = R"sql(
SELECT DISTINCT ON (tweet_id) * FROM xloop_metrics_in WHERE kind = 'm'
 ORDER BY tweet_id, observed_at DESC)sql";

// A count of the merged outcome: the record's when it is newer and known.
std::string merged(char const* column, char const* record_column = nullptr)
{
    return fmt::format("CASE WHEN n.newer THEN coalesce(i.{}, o.{}) ELSE o.{} END::int8",
                       record_column ? record_column : column, column, column);
}

// Everything one outcome row gets from a run, counts and v2 values together.
constexpr char const* create_v2 = R"sql(
CREATE TEMP TABLE IF NOT EXISTS xloop_v2 (
    decision_id uuid, tweet_id text,
    impressions bigint, views bigint, likes bigint, retweets bigint, replies bigint,
    quotes bigint, bookmarks bigint, profile_clicks bigint, follows bigint,
    collected_at timestamptz, data_source text,
    engagement_rate numeric(5,4), followers_gained integer, followers_before integer,
    followers_after integer, followers_gained_weighted numeric(10,4),
    primary_objective_score numeric(10,6), attribution_confidence numeric(5,4),
    hook_type text, cta_type text, structure_type text
) ON COMMIT DELETE ROWS)sql";

// One write per outcome; a row whose values are all unchanged is not touched.
constexpr char const* upsert_v2 = R"sql(
INSERT INTO public.outcomes AS o
    (decision_id, tweet_id, impressions, views, likes, retweets, replies, quotes,
     bookmarks, profile_clicks, follows, collected_at, data_source, simulated,
     engagement_rate, followers_gained, followers_before, followers_after,
     followers_gained_weighted, primary_objective_score, attribution_confidence,
     hook_type, cta_type, structure_type, updated_at)
SELECT decision_id, tweet_id, impressions, views, likes, retweets, replies, quotes,
       bookmarks, profile_clicks, follows, collected_at, data_source, false,
       engagement_rate, followers_gained, followers_before, followers_after,
       followers_gained_weighted, primary_objective_score, attribution_confidence,
       hook_type, cta_type, structure_type, $1::timestamptz
  FROM xloop_v2
ON CONFLICT (decision_id) DO UPDATE SET
    (tweet_id, impressions, views, likes, retweets, replies, quotes, bookmarks,
     profile_clicks, follows, collected_at, data_source, engagement_rate,
     followers_gained, followers_before, followers_after, followers_gained_weighted,
     primary_objective_score, attribution_confidence, hook_type, cta_type,
     structure_type, updated_at) =
    (EXCLUDED.tweet_id, EXCLUDED.impressions, EXCLUDED.views, EXCLUDED.likes,
     EXCLUDED.retweets, EXCLUDED.replies, EXCLUDED.quotes, EXCLUDED.bookmarks,
     EXCLUDED.profile_clicks, EXCLUDED.follows, EXCLUDED.collected_at,
     EXCLUDED.data_source, EXCLUDED.engagement_rate, EXCLUDED.followers_gained,
     EXCLUDED.followers_before, EXCLUDED.followers_after,
     EXCLUDED.followers_gained_weighted, EXCLUDED.primary_objective_score,
     EXCLUDED.attribution_confidence, EXCLUDED.hook_type, EXCLUDED.cta_type,
     EXCLUDED.structure_type, EXCLUDED.updated_at)
WHERE (o.tweet_id, o.impressions, o.views, o.likes, o.retweets, o.replies, o.quotes,
       o.bookmarks, o.profile_clicks, o.follows, o.collected_at, o.data_source,
       o.engagement_rate, o.followers_gained, o.followers_before, o.followers_after,
       o.followers_gained_weighted, o.primary_objective_score, o.attribution_confidence,
       o.hook_type, o.cta_type, o.structure_type)
      IS DISTINCT FROM
      (EXCLUDED.tweet_id, EXCLUDED.impressions, EXCLUDED.views, EXCLUDED.likes,
       EXCLUDED.retweets, EXCLUDED.replies, EXCLUDED.quotes, EXCLUDED.bookmarks,
       EXCLUDED.profile_clicks, EXCLUDED.follows, EXCLUDED.collected_at,
       EXCLUDED.data_source, EXCLUDED.engagement_rate, EXCLUDED.followers_gained,
       EXCLUDED.followers_before, EXCLUDED.followers_after,
       EXCLUDED.followers_gained_weighted, EXCLUDED.primary_objective_score,
       EXCLUDED.attribution_confidence, EXCLUDED.hook_type, EXCLUDED.cta_type,
       EXCLUDED.structure_type))sql";

// The original bot's columns on the base table follow the outcome.
constexpr char const* update_actuals = R"sql(
UPDATE public.content_generation_metadata_comprehensive c SET
    actual_impressions = t.impressions, actual_likes = t.likes,
    actual_retweets = t.retweets, actual_replies = t.replies,
    actual_engagement_rate = t.engagement_rate,
    actual_followers_gained = t.followers_gained_weighted,
    actual_primary_objective_score = t.primary_objective_score,
    metrics_collected_at = t.collected_at
  FROM xloop_v2 t
 WHERE c.decision_id = t.decision_id
   AND (c.actual_impressions, c.actual_likes, c.actual_retweets, c.actual_replies,
        c.actual_engagement_rate, c.actual_followers_gained,
        c.actual_primary_objective_score, c.metrics_collected_at)
       IS DISTINCT FROM
       (t.impressions, t.likes, t.retweets, t.replies, t.engagement_rate,
        t.followers_gained_weighted, t.primary_objective_score, t.collected_at))sql";

struct v2_result {
    std::int64_t merged = 0;  // inbox records merged into their outcome
    std::int64_t updated = 0; // outcome rows inserted or changed
};

// The follower snapshots attribution needs: the last one before `from` and
// every one after it up to `now`.
std::vector<follower_snapshot> read_snapshots(db_connection& db, timestamp from,
                                              timestamp now)
{
    auto const s = db.exec(R"sql(
(SELECT snapshot_at, follower_count FROM public.follower_snapshots
  WHERE snapshot_at <= $1::timestamptz AND follower_count IS NOT NULL
  ORDER BY snapshot_at DESC LIMIT 1)
UNION ALL
(SELECT snapshot_at, follower_count FROM public.follower_snapshots
  WHERE snapshot_at > $1::timestamptz AND snapshot_at <= $2::timestamptz
    AND follower_count IS NOT NULL)
ORDER BY 1)sql",
                           from, now);
    std::vector<follower_snapshot> out;
    for (int i = 0; i < s.rows(); ++i) {
        out.push_back({*parse_timestamp(s.get(i, 0)), s.i64(i, 1)});
    }
    return out;
}

// The posts of the attribution range with their outcome merged with the
// inbox's newest record (columns as read_v2_posts decodes them). The window
// as literals: the planner sees how many posts it holds (a subquery over
// current_setting() is estimated at a fixed guess).
std::string v2_posts_query(timestamp now, v2_window const& window)
{
    auto const now_lit = quote_literal(format_timestamp(now));
    auto const write_from = quote_literal(format_timestamp(window.write_from));
    auto const posts_from = quote_literal(format_timestamp(window.posts_from));
    return fmt::format(
        R"sql(COPY (
SELECT c.decision_id, c.posted_at, coalesce(c.decision_type, ''),
       c.hook_type, c.cta_type, c.structure_type, coalesce(c.content, ''),
       c.thread_parts IS NOT NULL, o.decision_id IS NOT NULL OR n.newer,
       {}, {}, {}, {}, {}, {}, {}, {}, {}, n.newer,
       CASE WHEN n.newer THEN i.observed_at ELSE o.collected_at END,
       CASE WHEN n.newer THEN current_setting('xloop.source') ELSE o.data_source END,
       CASE WHEN n.newer THEN i.tweet_id ELSE o.tweet_id END
  FROM public.content_generation_metadata_comprehensive c
  LEFT JOIN public.outcomes o ON o.decision_id = c.decision_id
  LEFT JOIN ({}) i ON i.tweet_id = c.tweet_id AND c.posted_at > {}::timestamptz
 CROSS JOIN LATERAL (SELECT coalesce({}, false) AS newer) n
 WHERE {}) TO STDOUT (FORMAT binary))sql",
        merged("impressions"), merged("likes"), merged("retweets"), merged("replies"),
        merged("quotes"), merged("bookmarks"), merged("profile_clicks"),
        merged("follows"), merged("views", "impressions"), newest_records, write_from,
        "i.tweet_id IS NOT NULL AND " +
            record_replaces("i", "i.observed_at", "current_setting('xloop.source')"),
        v2_range(posts_from + "::timestamptz", now_lit + "::timestamptz"));
}

// What the v2 pass reads: every post of the range as attribution input, and
// those it writes with their merged outcome.
struct v2_inputs {
    std::vector<attribution_post> aposts;
    std::deque<v2_post> posts; // no reallocation peaks as it grows
    string_pool pool;          // hook, cta, structure and source point into it
    std::int64_t merged = 0;   // inbox records merged into their outcome
};

void read_v2_posts(db_connection& db, std::string const& query, v2_window const& window,
                   v2_inputs& in)
{
    binary_copy_reader reader;
    auto opt_int = [](binary_copy_reader const& r, std::size_t i) {
        return r.is_null(i) ? std::nullopt : std::optional<std::int64_t>{r.int8(i)};
    };
    auto const row = [&](binary_copy_reader const& r) {
        post_counts const counts{opt_int(r, 9),  opt_int(r, 10), opt_int(r, 11),
                                 opt_int(r, 12), opt_int(r, 13), opt_int(r, 14),
                                 opt_int(r, 15)};
        timestamp const posted{std::chrono::microseconds{r.timestamptz_unix_micros(1)}};
        in.aposts.push_back({posted, counts.impressions, opt_int(r, 16)});
        // Posts up to write_from are context for sharing gains only.
        if (!r.boolean(8) || posted <= window.write_from) {
            return;
        }
        auto& p = in.posts.emplace_back();
        std::memcpy(p.decision_id.data(), r.text(0).data(), p.decision_id.size());
        p.index = in.aposts.size() - 1;
        p.counts = counts;
        p.follows = opt_int(r, 16);
        p.views = opt_int(r, 17);
        auto const content = r.text(6);
        p.hook = in.pool(r.is_null(3) ? classify_hook(content) : r.text(3));
        p.cta = in.pool(r.is_null(4) ? classify_cta(content) : r.text(4));
        p.structure = in.pool(r.is_null(5) ? classify_structure(r.text(2), r.boolean(7))
                                           : r.text(5));
        in.merged += r.boolean(18) ? 1 : 0;
        if (!r.is_null(19)) {
            p.collected_at =
                timestamp{std::chrono::microseconds{r.timestamptz_unix_micros(19)}};
        }
        if (!r.is_null(20)) {
            p.data_source = in.pool(r.text(20));
        }
        if (!r.is_null(21)) {
            p.tweet_id = std::string{r.text(21)};
        }
    };
    db.copy_out(
        query, [&](std::string_view message) { reader.feed(message, row); }, true);
}

// Each written post's row of xloop_v2: its counts, ER, attribution, score.
void copy_v2_rows(db_connection& db, std::deque<v2_post> const& posts,
                  std::vector<attribution_result> const& attributed,
                  metrics_config const& m)
{
    copy_writer w{db, "COPY xloop_v2 FROM STDIN"};
    char uuid[36];
    for (auto const& p : posts) {
        auto const& a = attributed[p.index];
        auto const er = engagement_rate(p.counts, m.engagement_fields);
        w.add(uuid_text(p.decision_id, uuid));
        p.tweet_id ? w.add(std::string_view{*p.tweet_id}) : w.add_null();
        w.add(p.counts.impressions);
        w.add(p.views);
        for (auto const& v :
             {p.counts.likes, p.counts.retweets, p.counts.replies, p.counts.quotes,
              p.counts.bookmarks, p.counts.profile_clicks, p.follows}) {
            w.add(v);
        }
        w.add(p.collected_at);
        p.data_source ? w.add(*p.data_source) : w.add_null();
        w.add(er);
        w.add(std::optional<std::int64_t>{std::llround(a.gain)});
        w.add(a.followers_before);
        w.add(a.followers_after);
        w.add(a.weighted());
        w.add(primary_objective_score(er, a.weighted(), m.score));
        w.add(a.confidence);
        w.add(p.hook);
        w.add(p.cta);
        w.add(p.structure);
        w.end_row();
    }
    w.finish();
}

// The v2 pass: ER, follower attribution, confidence, fgw, score and types for
// every post of the attribution range, posts and replies alike, merged with
// the inbox's records for them. Only rows whose values change are written, so
// a run with nothing new writes nothing and a post's fgw rises as its window
// gains snapshots (re-attribution).
v2_result v2_pass(run_context& run, std::string const& source)
{
    auto& db = run.db();
    phase_timer timer{"the v2 pass"};
    auto const& m = run.cfg().metrics;
    auto const window = v2_window_of(run);
    set_local_settings(db, {{"xloop.source", source}});
    auto const snaps =
        read_snapshots(db, window.posts_from - fractional_hours(24), run.now());
    db.exec(create_v2);
    v2_inputs in;
    read_v2_posts(db, v2_posts_query(run.now(), window), window, in);
    log::debug("v2 pass: {} posts and {} snapshots read after {} ms", in.aposts.size(),
               snaps.size(), timer.elapsed_ms());
    auto const attributed =
        attribute_followers(snaps, in.aposts, m.attribution_window_hours, run.now());
    copy_v2_rows(db, in.posts, attributed, m);
    // Its size, for the plans of the two writes (hash this side, not the posts).
    if (static_cast<std::int64_t>(in.posts.size()) >= analyze_min_rows) {
        db.exec("ANALYZE xloop_v2");
    }
    log::debug("v2 pass: computed and copied after {} ms", timer.elapsed_ms());
    v2_result result;
    result.merged = in.merged;
    result.updated = db.exec(upsert_v2, run.now()).affected_rows();
    log::debug("v2 pass: outcomes written after {} ms", timer.elapsed_ms());
    db.exec(update_actuals);
    return result;
}

} // namespace

void run_scrape_metrics(run_context& run, scrape_options const& opts)
{
    if (!run.dry_run()) {
        // Several transactions (one per batch): a lease, which holds through
        // a transaction-mode pooler, not a session lock.
        run.take_lease();
    }
    batch_transactions txs{run};
    scrape_counts n;
    std::optional<temporary_failure> stopped;
    if (opts.source == "file") {
        from_file(run, opts, n);
    } else {
        stopped = from_x_api(run, opts, txs, n);
    }
    auto const v2 = v2_pass(run, opts.source);
    txs.commit();

    // Rows written: the batch upserts' and the v2 pass's; records merged into
    // the v2 pass count as outcomes written too.
    run.rows_in = n.records;
    run.rows_out = n.written + v2.updated;
    n.written += v2.merged;
    for (auto const& [key, value] : {std::pair{"records", n.records},
                                     {"follower_snapshots", n.followers},
                                     {"outcomes_written", n.written},
                                     {"unknown_tweets", n.unknown},
                                     {"gone", n.gone},
                                     {"failed", n.failed},
                                     {"v2_updated", v2.updated}}) {
        run.summary()[key] = value;
        run.detail()[key] = value;
    }
    log::info(
        "{} records: {} outcomes written, {} v2 rows updated, {} follower snapshots, "
        "{} unknown tweets, {} gone{}",
        n.records, n.written, v2.updated, n.followers, n.unknown, n.gone,
        run.dry_run() ? " (dry run: rolled back, nothing kept)" : "");
    if (stopped) {
        throw *stopped;
    }
}

} // namespace xloop
