#include "scrape_v2.hpp"

#include "app.hpp"
#include "attribution.hpp"
#include "classify.hpp"
#include "copy_row.hpp"
#include "log.hpp"
#include "metrics_v2.hpp"
#include "scrape_inbox.hpp"

#include <array>
#include <cmath>
#include <deque>
#include <limits>
#include <unordered_set>

namespace xloop {

namespace {

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

// A count or a time as v2_post packs it: none is the one value no count can
// be (counts are ≥ 0; times are within ±292 000 years).
constexpr std::int64_t packed_none = std::numeric_limits<std::int64_t>::min();

std::int64_t pack(std::optional<std::int64_t> v)
{
    return v.value_or(packed_none);
}

std::optional<std::int64_t> unpack(std::int64_t v)
{
    return v == packed_none ? std::nullopt : std::optional{v};
}

// One outcome the v2 pass writes, one per post of the last month: kept small
// (about 180 bytes; optionals and a std::string each were twice that), since
// the month's posts are all held at once for the attribution.
struct v2_post {
    enum value : std::size_t {
        impressions,
        likes,
        retweets,
        replies,
        quotes,
        bookmarks,
        profile_clicks,
        follows,
        views,
        collected_at, // Unix microseconds
        value_count
    };
    std::array<unsigned char, 16> decision_id;
    std::array<std::int64_t, value_count> values; // pack()ed
    std::uint32_t index;                          // into the attribution inputs
    std::uint32_t tweet_id_at;                    // in v2_inputs::tweet_ids
    std::uint32_t tweet_id_size = no_tweet_id;
    bool stored = false; // the post had an outcome row when read
    std::string_view hook, cta, structure, data_source; // data_source: none if null

    static constexpr std::uint32_t no_tweet_id =
        std::numeric_limits<std::uint32_t>::max();

    std::optional<std::int64_t> get(value v) const { return unpack(values[v]); }
    post_counts counts() const
    {
        return {get(impressions), get(likes),     get(retweets),      get(replies),
                get(quotes),      get(bookmarks), get(profile_clicks)};
    }
};

static_assert(sizeof(v2_post) <= 180, "one per post of the month: keep it small");

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
    hook_type text, cta_type text, structure_type text, stored boolean
) ON COMMIT DELETE ROWS)sql";

// The outcome columns the v2 pass writes (decision_id is the key), in
// xloop_v2's names.
constexpr std::array<char const*, 22> v2_columns{"tweet_id",
                                                 "impressions",
                                                 "views",
                                                 "likes",
                                                 "retweets",
                                                 "replies",
                                                 "quotes",
                                                 "bookmarks",
                                                 "profile_clicks",
                                                 "follows",
                                                 "collected_at",
                                                 "data_source",
                                                 "engagement_rate",
                                                 "followers_gained",
                                                 "followers_before",
                                                 "followers_after",
                                                 "followers_gained_weighted",
                                                 "primary_objective_score",
                                                 "attribution_confidence",
                                                 "hook_type",
                                                 "cta_type",
                                                 "structure_type"};

// v2_columns, each after `prefix` ("o." or "EXCLUDED."; "" for none).
std::string v2_list(std::string_view prefix)
{
    std::string out;
    for (auto const* c : v2_columns) {
        out += fmt::format("{}{}{}", out.empty() ? "" : ", ", prefix, c);
    }
    return out;
}

// One write per outcome of the rows `which` selects: the posts that had an
// outcome when read are upserted (each an index probe; a row whose values
// are all unchanged is not touched), the rest inserted plainly: an upsert
// costs a third more a new row (a speculative insertion each). If another
// writer inserted one of them since the read, the insert fails and they are
// upserted too.
std::string write_v2(char const* which, bool upsert)
{
    auto sql = fmt::format(R"sql(
INSERT INTO public.outcomes AS o (decision_id, {0}, simulated, updated_at)
SELECT decision_id, {0}, false, $1::timestamptz
  FROM xloop_v2 WHERE {1})sql",
                           v2_list(""), which);
    if (upsert) {
        sql += fmt::format(R"sql(
ON CONFLICT (decision_id) DO UPDATE SET ({0}, updated_at) = ({1}, EXCLUDED.updated_at)
WHERE ({2}) IS DISTINCT FROM ({1}))sql",
                           v2_list(""), v2_list("EXCLUDED."), v2_list("o."));
    }
    return sql;
}

// The original bot's columns on the base table follow the outcome. The
// range the rows come from ($1, $2] lets the planner read those posts by
// their index rather than scan every post. (xloop.as_uuid: a text decision_id;
// on a uuid column the column itself.)
std::string const update_actuals =
    fmt::format(R"sql(
UPDATE public.content_generation_metadata_comprehensive c SET
    actual_impressions = t.impressions, actual_likes = t.likes,
    actual_retweets = t.retweets, actual_replies = t.replies,
    actual_engagement_rate = t.engagement_rate,
    actual_followers_gained = t.followers_gained_weighted,
    actual_primary_objective_score = t.primary_objective_score,
    metrics_collected_at = t.collected_at
  FROM xloop_v2 t
 WHERE xloop.as_uuid(c.decision_id) = t.decision_id AND {}
   AND (c.actual_impressions, c.actual_likes, c.actual_retweets, c.actual_replies,
        c.actual_engagement_rate, c.actual_followers_gained,
        c.actual_primary_objective_score, c.metrics_collected_at)
       IS DISTINCT FROM
       (t.impressions, t.likes, t.retweets, t.replies, t.engagement_rate,
        t.followers_gained_weighted, t.primary_objective_score, t.collected_at))sql",
                v2_range("$1::timestamptz", "$2::timestamptz"));

// The follower snapshots attribution needs: the last one before `from` and
// every one after it up to `now`. A negative count is no count (scrape-metrics
// refuses one; another writer of the table may not have), nor is a time of
// -infinity or before 1900 (no time of this account).
std::vector<follower_snapshot> read_snapshots(db_connection& db, timestamp from,
                                              timestamp now)
{
    auto const s = db.exec(R"sql(
(SELECT snapshot_at, follower_count FROM public.follower_snapshots
  WHERE snapshot_at <= $1::timestamptz AND isfinite(snapshot_at) AND follower_count >= 0
  ORDER BY snapshot_at DESC LIMIT 1)
UNION ALL
(SELECT snapshot_at, follower_count FROM public.follower_snapshots
  WHERE snapshot_at > $1::timestamptz AND snapshot_at <= $2::timestamptz
    AND follower_count >= 0)
ORDER BY 1)sql",
                           from, now);
    std::vector<follower_snapshot> out;
    for (int i = 0; i < s.rows(); ++i) {
        if (auto const at = parse_timestamp(s.get(i, 0))) {
            out.push_back({*at, s.i64(i, 1)});
        }
    }
    return out;
}

// The posts of the attribution range with their outcome merged with the
// inbox's newest record (columns as read_v2_posts decodes them). The
// decision id as a uuid whatever the column's type (the original bot's may be
// text): 16 bytes to hold, NULL where it is missing or not a uuid. Each
// post's outcome by its key (the fence keeps it a probe): a month of posts
// is a small part of every outcome, which a hash join would scan. The window
// as literals: the planner sees how many posts it holds (a subquery over
// current_setting() is estimated at a fixed guess). A record observed before
// its post was posted (beyond the clock skew) is never merged: its time and
// tweet id are read for the warning or error. Last, whether the post's record
// was no newer than its outcome. A collected_at of ±infinity (another
// program's) is read as none: it fits no double, and any record replaces it.
std::string v2_posts_query(v2_window const& window, double skew_seconds)
{
    auto const merge_from = quote_literal(format_timestamp(window.merge_from));
    auto const read_to = quote_literal(format_timestamp(window.read_to));
    auto const posts_from = quote_literal(format_timestamp(window.posts_from));
    return fmt::format(
        R"sql(COPY (
SELECT xloop.as_uuid(c.decision_id), c.posted_at, coalesce(c.decision_type::text, ''),
       c.hook_type, c.cta_type, c.structure_type, coalesce(c.content, ''),
       c.thread_parts IS NOT NULL, o.decision_id IS NOT NULL OR n.newer,
       {}, {}, {}, {}, {}, {}, {}, {}, {}, n.newer,
       CASE WHEN n.newer THEN i.observed_at WHEN isfinite(o.collected_at) THEN o.collected_at
       END,
       CASE WHEN n.newer THEN current_setting('xloop.source') ELSE o.data_source END,
       CASE WHEN n.newer THEN i.tweet_id ELSE o.tweet_id END,
       o.decision_id IS NOT NULL,
       CASE WHEN e.early THEN i.observed_at END, CASE WHEN e.early THEN i.tweet_id END,
       i.tweet_id IS NOT NULL AND NOT e.early AND NOT n.newer
  FROM public.content_generation_metadata_comprehensive c
  LEFT JOIN LATERAL (SELECT * FROM public.outcomes o
                      WHERE o.decision_id = c.decision_id OFFSET 0) o ON true
  LEFT JOIN ({}) i ON i.tweet_id = c.tweet_id AND c.posted_at > {}::timestamptz
 CROSS JOIN LATERAL (SELECT {} AS early) e
 CROSS JOIN LATERAL (SELECT coalesce(NOT e.early AND {}, false) AS newer) n
 WHERE {}) TO STDOUT (FORMAT binary))sql",
        merged("impressions"), merged("likes"), merged("retweets"), merged("replies"),
        merged("quotes"), merged("bookmarks"), merged("profile_clicks"),
        merged("follows"), merged("views", "impressions"), newest_records, merge_from,
        record_is_early("i.observed_at", "c.posted_at", fmt::format("{}", skew_seconds)),
        "i.tweet_id IS NOT NULL AND " +
            record_replaces("i", "i.observed_at", "current_setting('xloop.source')"),
        v2_range(posts_from + "::timestamptz", read_to + "::timestamptz"));
}

// What the v2 pass reads: every post of the range as attribution input, and
// those it writes with their merged outcome.
struct v2_inputs {
    std::vector<attribution_post> aposts;
    std::deque<v2_post> posts; // no reallocation peaks as it grows
    string_pool pool;          // hook, cta, structure and source point into it
    std::string tweet_ids;     // every post's, one after another
    std::int64_t merged = 0;   // inbox records merged into their outcome
    std::int64_t not_newer = 0;
    counted_posts unkeyed;
    counted_posts early;
};

std::optional<std::int64_t> opt_int(binary_copy_reader const& r, std::size_t i)
{
    return r.is_null(i) ? std::nullopt : std::optional<std::int64_t>{r.int8(i)};
}

// A post the v2 pass writes, from its row of the read (the newest in.aposts).
void add_v2_post(binary_copy_reader const& r, v2_inputs& in)
{
    auto& p = in.posts.emplace_back();
    std::memcpy(p.decision_id.data(), r.text(0).data(), p.decision_id.size());
    p.index = static_cast<std::uint32_t>(in.aposts.size() - 1);
    p.values.fill(packed_none);
    for (std::size_t v = v2_post::impressions; v <= v2_post::views; ++v) {
        p.values[v] = pack(opt_int(r, 9 + v)); // columns 9–17 in this order
    }
    auto const content = r.text(6);
    p.hook = in.pool(r.is_null(3) ? classify_hook(content) : r.text(3));
    p.cta = in.pool(r.is_null(4) ? classify_cta(content) : r.text(4));
    p.structure =
        in.pool(r.is_null(5) ? classify_structure(r.text(2), r.boolean(7)) : r.text(5));
    in.merged += r.boolean(18) ? 1 : 0;
    if (!r.is_null(19)) {
        p.values[v2_post::collected_at] = r.timestamptz_unix_micros(19);
    }
    if (!r.is_null(20)) {
        p.data_source = in.pool(r.text(20));
    }
    if (!r.is_null(21)) {
        auto const id = r.text(21);
        p.tweet_id_at = static_cast<std::uint32_t>(in.tweet_ids.size());
        p.tweet_id_size = static_cast<std::uint32_t>(id.size());
        in.tweet_ids += id;
    }
    p.stored = r.boolean(22);
}

void read_v2_posts(db_connection& db, std::string const& query, v2_window const& window,
                   v2_inputs& in)
{
    binary_copy_reader reader;
    auto const row = [&](binary_copy_reader const& r) {
        post_counts const counts{opt_int(r, 9),  opt_int(r, 10), opt_int(r, 11),
                                 opt_int(r, 12), opt_int(r, 13), opt_int(r, 14),
                                 opt_int(r, 15)};
        timestamp const posted{std::chrono::microseconds{r.timestamptz_unix_micros(1)}};
        in.aposts.push_back(
            {posted, counts.impressions, opt_int(r, 16), r.text(2) == "reply"});
        // Posts up to write_from, and after write_to (a backfill's slice), are
        // context for sharing gains only; the records of the latter are the
        // next pass's to count.
        if (posted > window.write_to) {
            return;
        }
        if (!r.is_null(23)) {
            // both finite: the record's time was parsed, the post is in the range
            in.early.add(1, observed_before_posting(
                                r.text(24),
                                format_timestamp(timestamp{std::chrono::microseconds{
                                    r.timestamptz_unix_micros(23)}}),
                                format_timestamp(posted)));
        }
        in.not_newer += r.boolean(25) ? 1 : 0;
        if (!r.boolean(8) || posted <= window.write_from) {
            return;
        }
        if (r.is_null(0)) {
            // a backfill's older post: its counts are stored as they came
            if (posted > window.merge_from) {
                in.unkeyed.add(1, r.is_null(21) ? std::nullopt
                                                : std::optional<std::string>{r.text(21)});
            }
            return;
        }
        add_v2_post(r, in);
    };
    db.copy_out(
        query, [&](std::string_view message) { reader.feed(message, row); }, true);
}

// Whether a post's attribution fits the outcome's columns (followers_*
// integer, followers_gained_weighted numeric(10,4)). Only counts no account
// has fall outside (a snapshot of 2·10⁹ after 1 000, a `follows` of 10⁸), and
// one such post must not fail the pass for every other.
bool fits_outcome(attribution_result const& a)
{
    constexpr double int_max = std::numeric_limits<std::int32_t>::max();
    auto const fits_int = [](std::optional<std::int64_t> v) {
        return !v || (*v >= std::numeric_limits<std::int32_t>::min() &&
                      *v <= std::numeric_limits<std::int32_t>::max());
    };
    return std::isfinite(a.gain) && std::abs(a.gain) <= int_max &&
           std::abs(a.weighted()) < 999999.99995 && fits_int(a.followers_before) &&
           fits_int(a.followers_after);
}

// Each written post's row of xloop_v2: its counts, ER, attribution, score.
// A post whose attribution does not fit gets none (and no score): counted
// in `out_of_range`, one named.
void copy_v2_rows(db_connection& db, v2_inputs const& in,
                  std::vector<attribution_result> const& attributed,
                  metrics_config const& m, counted_posts& out_of_range)
{
    copy_writer w{db, "COPY xloop_v2 FROM STDIN"};
    char uuid[36];
    for (auto const& p : in.posts) {
        auto const& a = attributed[p.index];
        auto const er = engagement_rate(p.counts(), m.engagement_fields);
        auto const tweet_id =
            p.tweet_id_size == v2_post::no_tweet_id
                ? std::string_view{}
                : std::string_view{in.tweet_ids}.substr(p.tweet_id_at, p.tweet_id_size);
        w.add(uuid_text(p.decision_id, uuid));
        tweet_id.data() ? w.add(tweet_id) : w.add_null();
        w.add(p.get(v2_post::impressions));
        w.add(p.get(v2_post::views));
        for (auto const v :
             {v2_post::likes, v2_post::retweets, v2_post::replies, v2_post::quotes,
              v2_post::bookmarks, v2_post::profile_clicks, v2_post::follows}) {
            w.add(p.get(v));
        }
        if (auto const at = p.get(v2_post::collected_at)) {
            w.add(timestamp{std::chrono::microseconds{*at}});
        } else {
            w.add_null();
        }
        p.data_source.data() ? w.add(p.data_source) : w.add_null();
        w.add(er);
        if (fits_outcome(a)) {
            w.add(std::optional<std::int64_t>{std::llround(a.gain)});
            w.add(a.followers_before);
            w.add(a.followers_after);
            w.add(a.weighted());
            w.add(primary_objective_score(er, a.weighted(), m.score));
            w.add(a.confidence);
        } else {
            out_of_range.add(1, fmt::format("tweet {}: {:.0f} follows",
                                            tweet_id.data() ? tweet_id : "?", a.gain));
            for (int i = 0; i < 6; ++i) {
                w.add_null();
            }
        }
        w.add(p.hook);
        w.add(p.cta);
        w.add(p.structure);
        w.add(std::string_view{p.stored ? "t" : "f"});
        w.end_row();
    }
    w.finish();
}

} // namespace

v2_result v2_pass(run_context& run, std::string const& source, v2_window const& window)
{
    auto& db = run.db();
    phase_timer timer{"the v2 pass"};
    auto const& m = run.cfg().metrics;
    set_local_settings(db, {{"xloop.source", source}});
    auto const snaps =
        read_snapshots(db, window.posts_from - fractional_hours(24), window.read_to);
    v2_inputs in;
    read_v2_posts(db, v2_posts_query(window, clock_skew_seconds(run)), window, in);
    log::debug("v2 pass: {} posts and {} snapshots read after {} ms", in.aposts.size(),
               snaps.size(), timer.elapsed_ms());
    v2_result result;
    result.unkeyed = in.unkeyed;
    result.early = in.early;
    result.not_newer = in.not_newer;
    result.posts = static_cast<std::int64_t>(in.aposts.size());
    if (in.posts.empty()) {
        return result; // no outcome to write (a new account, an idle run)
    }
    db.exec(create_v2);
    // Posts before posts_from are not read, and some are live until a window
    // after it: only from there does a time with no post live tell the drift.
    auto& reach = result.reach.emplace();
    auto const attributed = attribute_followers(
        snaps, in.aposts, m.attribution_window_hours, run.now(),
        window.posts_from + fractional_hours(m.attribution_window_hours),
        reach_options{m.attribution_half_life_hours, m.fit_reach}, &reach);
    if (reach.fitted) {
        log::debug("v2 pass: reach fitted: half-life {} h (0: even), replies' follows an "
                   "impression {:.2f} of posts'",
                   reach.half_life_hours, reach.reply_ratio);
    } else if (reach.best_half_life_hours) {
        log::debug("v2 pass: reach fitted best by a half-life of {} h (0: even), not "
                   "clearly better than the configured {} h: kept",
                   *reach.best_half_life_hours, reach.half_life_hours);
    }
    copy_v2_rows(db, in, attributed, m, result.out_of_range);
    log::debug("v2 pass: computed and copied after {} ms", timer.elapsed_ms());
    result.merged = in.merged;
    result.updated = db.exec(write_v2("stored", true), run.now()).affected_rows();
    db.exec("SAVEPOINT xloop_v2_insert");
    try {
        result.updated +=
            db.exec(write_v2("NOT stored", false), run.now()).affected_rows();
        db.exec("RELEASE SAVEPOINT xloop_v2_insert");
    } catch (db_error const& e) {
        if (e.sqlstate() != "23505") { // unique_violation
            throw;
        }
        db.exec("ROLLBACK TO SAVEPOINT xloop_v2_insert");
        result.updated +=
            db.exec(write_v2("NOT stored", true), run.now()).affected_rows();
    }
    log::debug("v2 pass: outcomes written after {} ms", timer.elapsed_ms());
    db.exec(update_actuals, window.write_from, window.write_to);
    if (window.write_to < run.now()) {
        db.exec("TRUNCATE xloop_v2"); // a backfill's slice: the next pass's table
    }
    return result;
}

} // namespace xloop
