#include "scrape_metrics_job.hpp"

#include "app.hpp"

#include "attribution.hpp"
#include "classify.hpp"
#include "copy_row.hpp"
#include "fd_streambuf.hpp"
#include "interrupt.hpp"
#include "json_text.hpp"
#include "log.hpp"
#include "metrics_file.hpp"
#include "reply_opportunity.hpp"
#include "scrape_inbox.hpp"
#include "scrape_v2.hpp"
#include "text.hpp"
#include "unique_fd.hpp"
#include "v2_backfill.hpp"
#include "x_api.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace xloop {

namespace {

// Raw records of one batch; cleared at each commit.
constexpr char const* create_inbox = R"sql(
CREATE TEMP TABLE IF NOT EXISTS xloop_metrics_in (
    kind text NOT NULL,              -- 'm': a post's metrics, 'f': follower counts
    tweet_id text, observed_at timestamptz NOT NULL,
    impressions bigint, likes bigint, retweets bigint, replies bigint, quotes bigint,
    bookmarks bigint, profile_clicks bigint, follows bigint,
    followers bigint, following bigint, tweets bigint
) ON COMMIT DELETE ROWS)sql";

// One upsert per batch: the newest record of each decision, where it replaces
// the stored counts; unknown counts keep their value. With `keep_v2_range`,
// the records of posts in the v2 range ($2, $3] stay in the inbox for the v2
// pass: they are set aside by an anti-join against the few posts of the
// range and the rest looked up by tweet id, so a large inbox is never joined
// to every post. The posts outside the range have their base table's counts
// written here (the v2 pass writes those of the range). The same pass counts
// the records of unknown tweets (the number written, the number unknown, five
// of their ids) and of posts without a decision id (the number, one id); the
// posts whose records are no newer than their outcome (left as they were);
// and the records observed before their post was posted (more than $4
// seconds of clock skew: a wrong tweet id or time), never written: how many,
// and the first by tweet id with both times. Long on purpose: it is one
// statement, so the inbox is read once and the batch costs one round trip.
std::string apply_inbox(bool keep_v2_range)
{
    auto const range = v2_range("$2::timestamptz", "$3::timestamptz");
    return fmt::format(
        R"sql(
WITH r AS MATERIALIZED (
    SELECT i.*, c.decision_id, c.found, c.posted_at, {3} AS early
      FROM xloop_metrics_in i
      LEFT JOIN LATERAL (
          SELECT c.decision_id, true AS found, c.posted_at
            FROM public.content_generation_metadata_comprehensive c
           WHERE c.tweet_id = i.tweet_id
          OFFSET 0) c ON true -- a fence: one index probe a record, never a scan
     WHERE i.kind = 'm'
       AND NOT EXISTS (SELECT FROM public.content_generation_metadata_comprehensive c
                        WHERE c.tweet_id = i.tweet_id AND ({0}))),
w AS (
INSERT INTO public.outcomes AS o
    (decision_id, tweet_id, impressions, views, likes, retweets, replies, quotes, bookmarks,
     profile_clicks, follows, collected_at, data_source, simulated)
SELECT DISTINCT ON (r.decision_id)
       r.decision_id, r.tweet_id, r.impressions, r.impressions, r.likes, r.retweets,
       r.replies, r.quotes, r.bookmarks, r.profile_clicks, r.follows, r.observed_at, $1, false
  FROM r
 WHERE r.decision_id IS NOT NULL AND NOT r.early
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
WHERE {1}
RETURNING o.decision_id, o.impressions, o.likes, o.retweets, o.replies, o.collected_at),
b AS (
UPDATE public.content_generation_metadata_comprehensive c SET
    actual_impressions = w.impressions, actual_likes = w.likes,
    actual_retweets = w.retweets, actual_replies = w.replies,
    metrics_collected_at = w.collected_at
  FROM w
 WHERE c.decision_id = w.decision_id AND ({2}) IS NOT TRUE)
SELECT a.*, e.tweet_id, e.observed_at, e.posted_at FROM (
SELECT (SELECT count(*) FROM w), count(*) FILTER (WHERE r.found IS NULL),
       array_to_string((array_agg(r.tweet_id ORDER BY r.tweet_id)
                        FILTER (WHERE r.found IS NULL))[1:5], ', '),
       count(*) FILTER (WHERE r.found AND r.decision_id IS NULL),
       min(r.tweet_id) FILTER (WHERE r.found AND r.decision_id IS NULL),
       count(DISTINCT r.decision_id) FILTER (WHERE NOT r.early) - (SELECT count(*) FROM w),
       count(*) FILTER (WHERE r.early)
  FROM r) a
LEFT JOIN LATERAL (SELECT r.tweet_id, r.observed_at, r.posted_at FROM r WHERE r.early
                    ORDER BY r.tweet_id, r.observed_at LIMIT 1) e ON true)sql",
        keep_v2_range ? range : "false",
        record_replaces("EXCLUDED", "EXCLUDED.collected_at", "EXCLUDED.data_source"),
        range, record_is_early("i.observed_at", "c.posted_at", "$4"));
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

// The posts of the scrape window select_due leaves out for a tweet id X
// cannot look up ($3, x_tweet_id_pattern): how many, one of them.
constexpr char const* select_unaskable = R"sql(
SELECT count(*), min(c.tweet_id::text)
  FROM public.content_generation_metadata_comprehensive c
 WHERE c.status = 'posted' AND c.tweet_id IS NOT NULL AND c.metrics_gone_at IS NULL
   AND c.posted_at > $1::timestamptz - make_interval(days => $2::int)
   AND c.posted_at <= $1::timestamptz
   AND c.tweet_id::text !~ $3)sql";

// Posted, not deleted, within the scrape window, past an age checkpoint not yet
// scraped, with a tweet id X can look up ($5); oldest due first. With each,
// whether X still has its non-public metrics (posted within $6 days, less
// an hour for the clocks).
constexpr char const* select_due = R"sql(
WITH due AS (
    SELECT c.tweet_id, c.posted_at,
           c.posted_at + make_interval(secs => 3600 * (
               SELECT max(a) FROM unnest($3::float8[]) a
                WHERE c.posted_at + make_interval(secs => 3600 * a) <= $1::timestamptz))
               AS due_at,
           o.collected_at
      FROM public.content_generation_metadata_comprehensive c
      LEFT JOIN public.outcomes o ON o.decision_id = c.decision_id
     WHERE c.status = 'posted' AND c.tweet_id IS NOT NULL AND c.metrics_gone_at IS NULL
       AND c.posted_at > $1::timestamptz - make_interval(days => $2::int)
       AND c.posted_at <= $1::timestamptz
       AND c.tweet_id::text ~ $5)
SELECT tweet_id, bool_and(posted_at > $1::timestamptz - make_interval(days => $6::int, hours => -1)),
       min(posted_at)::text
  FROM due
 WHERE due_at IS NOT NULL AND (collected_at IS NULL OR collected_at < due_at)
 GROUP BY tweet_id
 ORDER BY min(due_at), tweet_id
 LIMIT $4)sql";

struct scrape_counts {
    std::int64_t records = 0;
    std::int64_t followers = 0;
    std::int64_t written = 0;
    std::int64_t unknown = 0;
    std::int64_t gone = 0;
    std::int64_t failed = 0;
    std::string input = "the X API"; // what the records came from, for messages
    std::int64_t skipped_lines = 0;  // bad lines of a file, under --skip-bad
    std::int64_t not_newer = 0;      // posts whose records changed nothing
    counted_posts unkeyed;           // records of posts without a decision id
    counted_posts early;             // records observed before their post was posted
    std::int64_t deferred = 0;       // due posts X's rate limit left for a later run
    std::optional<rate_window> deferred_by;  // the window X said held them
    std::map<std::string, timestamp> posted; // the due posts' posted_at, by tweet id
    std::int64_t named = 0;                // replies given the account X says they answer
    std::int64_t named_by_opportunity = 0; // given the author of the post they answer
    counted_posts time_off; // posts whose posted_at is not when X says it posted them
    double most_off_seconds = 0;
    // the account whose follower count the snapshots are (its X user id, this
    // run's or the last run's that asked), and posts X says another posted
    std::string account_id;
    counted_posts other_author;
};

// The account whose follower count the snapshots read: this run's answer,
// else the last run's that asked (the ledger's), else none.
std::string account_id_of(db_connection& db, std::optional<account_counts> const& me)
{
    if (me && !me->id.empty()) {
        return me->id;
    }
    auto const r = db.exec(R"sql(
SELECT detail ->> 'account_id' FROM xloop.job_runs
 WHERE job = 'scrape-metrics' AND detail ? 'account_id'
 ORDER BY started_at DESC LIMIT 1)sql");
    return r.rows() > 0 ? r.opt_str(0, 0).value_or("") : "";
}

// A post X says another account posted than the one whose follower count
// is read (x_api.username naming another account, another account's token):
// its follows would be attributed from that account's followers.
void compare_author(tweet_metrics const& t, scrape_counts& n)
{
    if (!n.account_id.empty() && !t.author_id.empty() && t.author_id != n.account_id) {
        n.other_author.add(1, fmt::format("tweet {} posted by user {}; the follower "
                                          "count is user {}'s",
                                          t.id, t.author_id, n.account_id));
    }
}

// A post's posted_at against the time X gives it (created_at): the poster
// writes another time when they differ by more than the clocks may (a local
// time into a timestamp without time zone, the scheduled time), and
// post_hour and the follower attribution read posted_at. The poster writes
// it a second or so after X answers; a minute at least is allowed.
void compare_posting_time(run_context const& run, tweet_metrics const& t,
                          scrape_counts& n)
{
    auto const posted = n.posted.find(t.id);
    if (!t.created_at || posted == n.posted.end()) {
        return;
    }
    auto const off =
        std::abs(std::chrono::duration<double>(posted->second - *t.created_at).count());
    if (off <= std::max(clock_skew_seconds(run), 60.0)) {
        return;
    }
    n.time_off.add(1, fmt::format("tweet {}: posted_at {}, X's created_at {}", t.id,
                                  format_timestamp(posted->second),
                                  format_timestamp(*t.created_at)));
    n.most_off_seconds = std::max(n.most_off_seconds, off);
}

// One transaction per batch; in a dry run everything happens in one
// transaction that is rolled back. Each transaction sets up what it uses
// itself (settings, the inbox): through a transaction-mode pooler the next
// one may run on another server connection.
class batch_transactions {
public:
    explicit batch_transactions(run_context& run) : m_run(run) {}
    // Opens the next transaction if the last one was committed: called once
    // the X API has answered, so that no transaction waits on it (idle in
    // transaction: a pooler's server connection held, or the session ended
    // by idle_in_transaction_session_timeout under a slow answer).
    void open()
    {
        if (!m_tx) {
            begin();
        }
    }
    void commit()
    {
        if (!m_run.dry_run() && m_tx) {
            m_run.renew_lease(); // throws (and rolls back) if another run took it
            m_tx->commit();
            m_tx.reset();
        }
    }

private:
    void begin()
    {
        m_tx = std::make_unique<transaction>(m_run.db());
        // The default work_mem (4 MB) sorts 10⁵ records on disk and hashes
        // them in two batches. The temp tables exist from the run's first
        // transaction on: no notice of it.
        m_run.db().exec(R"sql(
            SELECT set_config('work_mem', '64MB', true),
                   set_config('client_min_messages', 'warning', true)
            )sql");
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
        db.exec(apply_inbox(keep_v2_range), source, v2_window_of(run).merge_from,
                run.now(), clock_skew_seconds(run));
    n.written += applied.i64(0, 0);
    if (auto const k = applied.i64(0, 1); k > 0) {
        n.unknown += k;
        log::warn("{} for tweet ids not in content_generation_metadata_comprehensive "
                  "skipped (e.g. {})",
                  counted(k, "record", "records"), applied.str(0, 2));
    }
    n.unkeyed.add(applied.i64(0, 3), applied.opt_str(0, 4));
    n.not_newer += applied.i64(0, 5);
    if (auto const k = applied.i64(0, 6); k > 0) {
        // posted_at is another program's: it may be 'infinity'
        n.early.add(k, observed_before_posting(applied.str(0, 7),
                                               stored_timestamp_text(applied.str(0, 8)),
                                               stored_timestamp_text(applied.str(0, 9))));
    }
    if (!keep_v2_range) {
        db.exec("DELETE FROM xloop_metrics_in");
    }
}

// The file --input names, or stdin ("-" or none), and its name for messages.
struct metrics_input {
    unique_fd file; // empty: stdin
    std::string name = "stdin";
};

metrics_input open_input(std::optional<std::string> const& input)
{
    metrics_input in;
    if (!input || *input == "-") {
        if (isatty(STDIN_FILENO)) {
            // by hand, without a pipe: say why nothing happens
            log::info("reading JSON Lines from the terminal, one record a line; Ctrl-D "
                      "ends them (a file: --input FILE)");
        }
        return in;
    }
    std::error_code ec;
    if (std::filesystem::is_directory(*input, ec)) {
        throw data_error{
            fmt::format("--input: cannot read '{}': it is a directory", *input)};
    }
    // a FIFO's open waits for its writer; a signal ends the wait
    throw_if_interrupted();
    in.file.reset(::open(input->c_str(), O_RDONLY | O_CLOEXEC));
    if (!in.file) {
        throw_if_interrupted(); // EINTR: the signal's, not the file's
        throw data_error{
            fmt::format("--input: cannot read '{}': {}", *input, std::strerror(errno))};
    }
    in.name = *input;
    return in;
}

void from_file(run_context& run, scrape_options const& opts, scrape_counts& n)
{
    auto& db = run.db();
    // Read through fd_istreambuf: a signal stops a read that waits for a pipe's
    // or a FIFO's writer (std::ifstream retried it, and std::cin's failed read
    // looked like the input's end).
    auto const input = open_input(opts.input);
    auto const& name = input.name;
    fd_istreambuf buffer{input.file ? input.file.get() : STDIN_FILENO};
    std::istream in{&buffer};
    n.input = name;
    auto const latest =
        run.now() + fractional_hours(run.cfg().metrics.max_clock_skew_minutes / 60);
    // X's analytics export says nothing of when it was made
    auto const export_time =
        opts.observed_at ? *parse_timestamp(*opts.observed_at) : run.now();
    if (export_time > latest) {
        throw usage_error{
            fmt::format("--observed-at {} is later than now plus the allowed "
                        "clock skew ({}, metrics.max_clock_skew_minutes)",
                        format_timestamp(export_time), format_timestamp(latest))};
    }
    std::vector<bad_line> bad;
    bool is_export = false;
    {
        phase_timer timer{"reading the file"};
        // Streamed into the inbox as read; a bad line (strict) aborts the COPY
        // and the transaction: nothing is written.
        copy_writer w{db, "COPY xloop_metrics_in FROM STDIN"};
        bad = read_metrics_file(
            in, name, opts.skip_bad,
            {[&](metrics_record const& r) {
                 add_metrics_row(w, r.tweet_id, r.observed_at, r.counts, r.follows);
                 ++n.records;
             },
             [&](follower_record const& r) {
                 add_follower_row(w, r.observed_at, r.followers, r.following, r.tweets);
                 ++n.records;
             },
             [&] { is_export = true; }},
            latest, false, export_time);
        w.finish();
    }
    // --skip-bad is for a few bad lines: a file with no good one is of
    // another form, and a run that wrote nothing must not say ok
    if (n.records == 0 && !bad.empty()) {
        throw data_error{fmt::format(
            "{}: no line is a record ({} bad, the first, line {}: {}); nothing was "
            "written (--skip-bad skips a few bad lines, not a whole file)",
            name, bad.size(), bad.front().line, bad.front().reason)};
    }
    // A large inbox: give the planner its size and spread.
    if (n.records >= analyze_min_rows) {
        db.exec("ANALYZE xloop_metrics_in (tweet_id, kind)");
    }
    for (auto const& b : bad) {
        log::warn("{}:{}: skipped: {}", name, b.line, b.reason);
    }
    if (opts.observed_at && !is_export) {
        log::warn("--observed-at is for X's analytics export; {} is JSON Lines, whose "
                  "records were taken as observed at their own observed_at",
                  name);
    }
    n.skipped_lines = static_cast<std::int64_t>(bad.size());
    // One transaction with the v2 pass, which merges the rest of the inbox.
    apply_batch(run, "file", n, true);
}

// The posts of the last `days` left out of select_due for their tweet id: said.
void report_unaskable(run_context& run, int days)
{
    auto const r = run.db().exec(select_unaskable, run.now(), days, x_tweet_id_pattern);
    run.summary()["unaskable_tweet_ids"] = r.i64(0, 0);
    if (r.i64(0, 0) > 0) {
        auto const n = r.i64(0, 0);
        log::warn("{} of the last {} {} a tweet_id X cannot look up (e.g. {}; an id is "
                  "1 to 19 digits): not asked for, since one would fail every request "
                  "it is in; correct {} in content_generation_metadata_comprehensive",
                  counted(n, "post", "posts"), last_days_text(days),
                  n == 1 ? "has" : "have", json_text(r.str(0, 1)),
                  n == 1 ? "it" : "them");
    }
}

// Posts X no longer has ($2, a JSON array of tweet ids): never asked again.
constexpr char const* mark_gone_sql = R"sql(
UPDATE public.content_generation_metadata_comprehensive
   SET metrics_gone_at = $1::timestamptz
 WHERE tweet_id IN (SELECT jsonb_array_elements_text($2::jsonb))
   AND metrics_gone_at IS NULL)sql";

// A reply that names no account it answers (target_username empty), in
// cgmc_unnamed_reply_idx's words, so the planner can read that index.
constexpr char const* unnamed_reply =
    "c.decision_type = 'reply' AND coalesce(btrim(c.target_username), '') = ''";

// A reply that names no account it answers (the original bot's never did)
// is given the one X says (in_reply_to_user_id): learn-replies learns from it.
// A name already there is kept.
std::string const name_targets_sql = fmt::format(R"sql(
UPDATE public.content_generation_metadata_comprehensive c
   SET target_username = x.handle
  FROM jsonb_to_recordset($1::jsonb) AS x(tweet_id text, handle text)
 WHERE c.tweet_id = x.tweet_id AND {})sql",
                                                 unnamed_reply);

void name_reply_targets(run_context& run, tweets_page const& page, scrape_counts& n)
{
    auto targets = nlohmann::json::array();
    for (auto const& t : page.found) {
        if (t.replied_to) {
            targets.push_back({{"tweet_id", t.id}, {"handle", *t.replied_to}});
        }
    }
    if (!targets.empty()) {
        n.named += run.db().exec(name_targets_sql, json_text(targets)).affected_rows();
    }
}

// What a page of X's answer says besides metrics: whom its replies answer,
// and the posts X no longer has, never asked for again.
void keep_names_and_gone(run_context& run, tweets_page const& page, scrape_counts& n)
{
    name_reply_targets(run, page, n);
    if (!page.gone.empty()) {
        n.gone +=
            run.db().exec(mark_gone_sql, run.now(), json_text(page.gone)).affected_rows();
        auto const gone = static_cast<long long>(page.gone.size());
        log::info("{} on X; {} not be asked for again",
                  counted(gone, "post no longer exists", "posts no longer exist"),
                  gone == 1 ? "it will" : "they will");
    }
}

// X said its last answer was a window's last (x-rate-limit-remaining: 0, the
// Free tier allowing one request in 15 minutes; or a day's cap): what is left
// waits, where asking now would be a 429 and an exit 75.
std::optional<x_api_client::allowance> tweets_exhausted(x_api_client const& api,
                                                        timestamp now)
{
    auto const a = api.allowance_of("/2/tweets", epoch_seconds(now));
    return a && a->remaining == 0 ? a : std::nullopt;
}

// A reply that names no account is given the author of the post it answers
// where reply_opportunities has that post: a poster that records the post a
// reply answers (target_tweet_id) but not its author; plan names the author
// as this does.
// Replies of the last replies.window_days ($1, $2]: what learn-replies reads.
std::string const name_by_opportunity_sql = fmt::format(
    R"sql(
UPDATE public.content_generation_metadata_comprehensive c
   SET target_username = ltrim(btrim(r.tweet_author), '@')
  FROM public.reply_opportunities r
 WHERE {} AND {}
   AND r.tweet_id::text = btrim(c.target_tweet_id::text)
   AND ltrim(btrim(r.tweet_author), '@') ~ '^{}$')sql",
    v2_range("$1::timestamptz", "$2::timestamptz"), unnamed_reply, x_handle_pattern);

void name_by_opportunity(run_context& run, scrape_counts& n)
{
    auto const from = run.now() - fractional_hours(24 * run.cfg().replies.window_days);
    n.named_by_opportunity +=
        run.db().exec(name_by_opportunity_sql, from, run.now()).affected_rows();
}

// One page of due posts from the X API, written and committed as a batch;
// posts X no longer has are marked so they are not asked for again.
void fetch_page(run_context& run, x_api_client& api, std::vector<std::string>& ids,
                bool non_public, batch_transactions& txs, scrape_counts& n)
{
    auto& db = run.db();
    if (ids.empty()) {
        return;
    }
    if (auto const a = tweets_exhausted(api, run.now())) { // the rest wait
        n.deferred += static_cast<std::int64_t>(ids.size());
        n.deferred_by = a;
        ids.clear();
        return;
    }
    run.check_interrupted();
    auto const page = api.fetch_tweets(ids, non_public);
    ids.clear();
    txs.open();
    {
        copy_writer w{db, "COPY xloop_metrics_in FROM STDIN"};
        for (auto const& t : page.found) {
            add_metrics_row(w, t.id, run.now(), t.counts, std::nullopt);
            compare_posting_time(run, t, n);
            compare_author(t, n);
            ++n.records;
        }
        w.finish();
    }
    apply_batch(run, "x-api", n);
    keep_names_and_gone(run, page, n);
    n.failed += static_cast<std::int64_t>(page.failed.size());
    txs.commit();
}

// In --json and in the run's ledger row, where validate reads it.
void note(run_context& run, char const* key, nlohmann::json const& value)
{
    run.summary()[key] = value;
    run.detail()[key] = value;
}

// The replies of learn-replies' window ($1, $2]) that name no account and
// X can be asked about ($3), newest first, at most $4; with how many there are.
std::string const select_unnamed_replies =
    fmt::format(R"sql(
SELECT c.tweet_id::text, count(*) OVER ()
  FROM public.content_generation_metadata_comprehensive c
 WHERE {} AND {}
   AND c.metrics_gone_at IS NULL AND c.tweet_id::text ~ $3
 ORDER BY c.posted_at DESC LIMIT $4)sql",
                v2_range("$1::timestamptz", "$2::timestamptz"), unnamed_reply);

// The first run on a database (or --backfill) asks X whom the replies of
// learn-replies' window that name no account answer, not only the due ones:
// the original bot's replies named none, and one past its last age checkpoint
// is never asked again. Their metrics are not written (older ones are past
// their last checkpoint); only their names. Pages as the due posts', public
// metrics only; X's rate limit leaves the rest for a later --backfill.
void ask_unnamed_replies(run_context& run, scrape_options const& opts, x_api_client& api,
                         batch_transactions& txs, scrape_counts& n, std::string_view why)
{
    auto& db = run.db();
    auto const& m = run.cfg().metrics;
    auto const from = run.now() - fractional_hours(24 * run.cfg().replies.window_days);
    txs.open();
    auto const max_posts = opts.max_posts.value_or(m.max_posts);
    auto const rows =
        db.exec(select_unnamed_replies, from, run.now(), x_tweet_id_pattern, max_posts);
    txs.commit();
    std::vector<std::string> ids;
    for (int i = 0; i < rows.rows(); ++i) {
        if (!n.posted.contains(rows.str(i, 0))) { // asked already as due
            ids.push_back(rows.str(i, 0));
        }
    }
    // "2 replies that name no account not asked whom they answer"
    auto const not_asked = [](std::int64_t k, std::string_view older) {
        bool const one = k == 1;
        return fmt::format("{} {}{} that {} no account not asked whom {} {}", k, older,
                           one ? "reply" : "replies", one ? "names" : "name",
                           one ? "it" : "they", one ? "answers" : "answer");
    };
    if (!ids.empty()) {
        log::info("{}: asking X whom {} of the last {} that {} no account {}", why,
                  counted(static_cast<long long>(ids.size()), "reply", "replies"),
                  last_days_text(run.cfg().replies.window_days),
                  ids.size() == 1 ? "names" : "name",
                  ids.size() == 1 ? "answers" : "answer");
    }
    if (auto const all = rows.rows() > 0 ? rows.i64(0, 1) : 0; all > rows.rows()) {
        auto const left = all - rows.rows();
        note(run, "unnamed_replies_left", left);
        log::info("{} in this run (at most {}, --max-posts): run xloop-scrape-metrics "
                  "--backfill again to ask",
                  not_asked(left, "older "), max_posts);
    }
    std::int64_t asked = 0;
    auto const per_page = static_cast<std::size_t>(m.batch_size);
    for (std::size_t at = 0; at < ids.size(); at += per_page) {
        if (tweets_exhausted(api, run.now())) {
            auto const left = static_cast<std::int64_t>(ids.size() - at);
            note(run, "unnamed_replies_deferred", left);
            log::info("X allows no more GET /2/tweets now: {}; run "
                      "xloop-scrape-metrics --backfill later to ask",
                      not_asked(left, ""));
            break;
        }
        run.check_interrupted();
        std::vector<std::string> const page_ids(
            ids.begin() + static_cast<std::ptrdiff_t>(at),
            ids.begin() +
                static_cast<std::ptrdiff_t>(std::min(ids.size(), at + per_page)));
        auto const page = api.fetch_tweets(page_ids, false);
        asked += static_cast<std::int64_t>(page_ids.size());
        txs.open();
        keep_names_and_gone(run, page, n);
        txs.commit();
    }
    note(run, "unnamed_replies_asked", asked);
}

// When an earlier run's rate limit on the follower count lifts (epoch
// seconds), if it has not yet: until then it is not asked. Read from the
// runs' ledger detail of two days (X's limits reset within one; a reset
// further off is forgotten then), any other value there ignored; compared as
// numeric, which holds any number jsonb does (1e400 too) without an error.
constexpr char const* followers_limited_sql = R"sql(
SELECT max(until)::int8
  FROM (SELECT CASE WHEN jsonb_typeof(detail->'x_api_followers_limited_until') = 'number'
                    THEN (detail->>'x_api_followers_limited_until')::numeric END AS until
          FROM xloop.job_runs
         WHERE job = 'scrape-metrics' AND started_at <= $1::timestamptz
           AND started_at > $1::timestamptz - interval '2 days') r
 WHERE until > extract(epoch FROM $1::timestamptz) AND until < 7258118400)sql";

// The newest run of two days that asked for the follower count and was told
// what X allows until its window resets: when it asked (epoch seconds), how
// many lookups were left, and the reset; none once the window is over.
constexpr char const* followers_allowance_sql = R"sql(
SELECT extract(epoch FROM started_at)::float8, left_::float8, reset::float8
  FROM (SELECT started_at,
               CASE WHEN jsonb_typeof(detail->'x_api_followers_remaining') = 'number'
                    THEN (detail->>'x_api_followers_remaining')::numeric END AS left_,
               CASE WHEN jsonb_typeof(detail->'x_api_followers_reset') = 'number'
                    THEN (detail->>'x_api_followers_reset')::numeric END AS reset
          FROM xloop.job_runs
         WHERE job = 'scrape-metrics' AND started_at <= $1::timestamptz
           AND started_at > $1::timestamptz - interval '2 days'
           AND detail->>'followers' = 'asked'
         ORDER BY started_at DESC
         LIMIT 1) r
 WHERE left_ >= 0 AND left_ < 1e9 AND reset > extract(epoch FROM $1::timestamptz)
   AND reset < 7258118400)sql";

// When the follower count is next worth asking for, paced by what X allows:
// its lookups left spread evenly until the window resets, so that X's Free
// tier (25 a day) gives a snapshot about hourly all day instead of every
// run until the 25 are gone and none for the 16 hours after (posts there
// were attributed follows with confidence down to 0.3). None: ask.
std::optional<timestamp> followers_paced_until(db_connection& db, timestamp now)
{
    auto const r = db.exec(followers_allowance_sql, now);
    if (r.rows() == 0) {
        return std::nullopt;
    }
    double const asked = r.f64(0, 0);
    double const next = asked + (r.f64(0, 2) - asked) / (r.f64(0, 1) + 1);
    auto const at = timestamp{std::chrono::microseconds{std::llround(next * 1e6)}};
    return now < at ? std::optional{at} : std::nullopt;
}

// Whether a snapshot of the last `minutes` is there already.
constexpr char const* recent_snapshot_sql = R"sql(
SELECT EXISTS (SELECT 1 FROM public.follower_snapshots
                WHERE snapshot_at > $1::timestamptz - make_interval(mins => $2::int)
                  AND snapshot_at <= $1::timestamptz))sql";

// The account's follower count, unless x_api.followers_every_minutes says a
// recent snapshot will do or X limits its lookup: a rate limit there (X's
// Free tier allows GET /2/users/me 25 times a day) leaves this run without a
// snapshot, never without the posts' metrics, and the lookup is not asked
// again until the limit lifts. An outage of that endpoint alone (HTTP 5xx on
// every attempt) costs the snapshot too, not the posts' metrics: `failed`
// holds it for the run to end with, exit 75, once they are in.
std::optional<account_counts> followers_of(run_context& run, x_api_client& api,
                                           std::optional<temporary_failure>& failed)
{
    auto& db = run.db();
    auto const every = run.cfg().x_api.followers_every_minutes;
    if (every > 0 && db.exec(recent_snapshot_sql, run.now(), every).boolean(0, 0)) {
        log::debug("follower count not asked: a snapshot of the last {} min is there "
                   "(x_api.followers_every_minutes)",
                   every);
        note(run, "followers", "not due");
        return std::nullopt;
    }
    if (auto const paced = followers_paced_until(db, run.now())) {
        log::debug("follower count not asked: X's lookups left are spread until its "
                   "window resets, the next at {}",
                   format_timestamp(*paced));
        note(run, "followers", "not due");
        return std::nullopt;
    }
    if (auto const r = db.exec(followers_limited_sql, run.now()); !r.is_null(0, 0)) {
        auto const until = r.i64(0, 0);
        log::info("follower count not asked: X rate-limited its lookup until {}",
                  format_timestamp(timestamp{std::chrono::seconds{until}}));
        note(run, "followers", "rate limited");
        return std::nullopt;
    }
    try {
        auto me = api.fetch_account();
        note(run, "followers", "asked");
        if (auto const a = api.account_allowance(epoch_seconds(run.now()));
            a && a->reset_epoch) {
            note(run, "x_api_followers_remaining", a->remaining);
            note(run, "x_api_followers_reset", *a->reset_epoch);
        }
        if (!me.username.empty()) {
            // the account's handle, for the tools that leave its own posts
            // out when x_api.username is not set (own_handle())
            note(run, "username", me.username);
        }
        if (!me.id.empty()) {
            note(run, "account_id", me.id); // whose posts they should be
        }
        return me;
    } catch (rate_limited const& e) {
        note(run, "followers", "rate limited");
        note(run, "x_api_followers_rate_limited", true);
        if (e.reset_epoch) {
            note(run, "x_api_followers_limited_until", *e.reset_epoch);
        }
        log::warn("{}: this run takes no follower snapshot, the posts' metrics are still "
                  "asked for{}; on X's Free tier (25 lookups a day) set "
                  "x_api.followers_every_minutes: 60",
                  e.limit,
                  e.reset_epoch ? ", and the follower count is not asked again until then"
                                : "");
        return std::nullopt;
    } catch (server_failed const& e) {
        note(run, "followers", "failed");
        log::warn("{}: this run takes no follower snapshot; the posts' metrics are still "
                  "asked for, then it exits 75",
                  e.what());
        failed = temporary_failure{
            fmt::format("{}: no follower snapshot this run (the posts' metrics were "
                        "asked for)",
                        e.what())};
        return std::nullopt;
    }
}

// The due posts (select_due's rows) asked for in pages of metrics.batch_size.
// Posts past X's days of non-public metrics are asked for apart, for their
// public ones: asked with the others, X would leave them out.
void fetch_due(run_context& run, x_api_client& api, db_result const& due,
               batch_transactions& txs, scrape_counts& n)
{
    int const batch_size = run.cfg().metrics.batch_size;
    std::vector<std::string> young;
    std::vector<std::string> old;
    int young_since = 0; // the due row each page's first post is
    int old_since = 0;
    for (int i = 0; i < due.rows(); ++i) {
        if (auto const at = parse_timestamp(due.str(i, 2))) {
            n.posted.emplace(due.str(i, 0), *at);
        }
        bool const non_public = due.boolean(i, 1);
        auto& ids = non_public ? young : old;
        if (ids.empty()) {
            (non_public ? young_since : old_since) = i;
        }
        ids.push_back(due.str(i, 0));
        if (static_cast<int>(ids.size()) == batch_size) {
            fetch_page(run, api, ids, non_public, txs, n);
        }
    }
    // The page with the most overdue post first, as select_due orders them:
    // where X allows one request a run (its Free tier: one in 15 minutes),
    // the other kind waits its turn, not for ever.
    if (!old.empty() && (young.empty() || old_since < young_since)) {
        fetch_page(run, api, old, false, txs, n);
    }
    fetch_page(run, api, young, true, txs, n);
    fetch_page(run, api, old, false, txs, n);
}

// Returns the error to rethrow after the v2 pass, if one stopped the run (a
// rate limit, an outage) or cost it the follower snapshot.
// `ask_unnamed`: why the replies that name no account are asked about too
// (the first run, --backfill), or empty.
std::optional<temporary_failure> from_x_api(run_context& run, scrape_options const& opts,
                                            batch_transactions& txs, scrape_counts& n,
                                            std::string_view ask_unnamed)
{
    auto& db = run.db();
    auto const& m = run.cfg().metrics;
    x_api_client api{run.cfg().x_api, x_api_credentials_from_env(run.cfg().x_api)};
    auto const report_api = [&] {
        run.summary()["x_api_requests"] = api.requests();
        note(run, "x_api_non_public_refused", api.non_public_refused());
    };
    std::optional<temporary_failure> followers_failed;
    try {
        // asked before the run's first transaction waits on it
        auto const me = followers_of(run, api, followers_failed);
        n.account_id = account_id_of(db, me);
        txs.open();
        if (me) {
            copy_writer w{db, "COPY xloop_metrics_in FROM STDIN"};
            add_follower_row(w, run.now(), me->followers, me->following, me->tweets);
            w.finish();
        }
        apply_batch(run, "x-api", n);
        // One day beyond max_age_days so the last checkpoint (30 d) is caught.
        auto const days = static_cast<int>(std::ceil(m.max_age_days)) + 1;
        auto const due = db.exec(select_due, run.now(), days, m.due_ages_hours,
                                 opts.max_posts.value_or(m.max_posts), x_tweet_id_pattern,
                                 x_non_public_days);
        report_unaskable(run, days);
        txs.commit();
        run.summary()["due"] = due.rows();
        log::info("{} due for metrics", counted(due.rows(), "post is", "posts are"));
        fetch_due(run, api, due, txs, n);
        if (!ask_unnamed.empty()) {
            ask_unnamed_replies(run, opts, api, txs, n, ask_unnamed);
        }
        note(run, "x_api_tweets_deferred", n.deferred);
        if (auto const& w = n.deferred_by; n.deferred > 0 && w) {
            log::info("X allows no more GET /2/tweets {} ({}-remaining: 0): "
                      "{} for the next run",
                      w->reset_epoch
                          ? "until " + format_timestamp(timestamp{
                                           std::chrono::seconds{*w->reset_epoch}})
                          : std::string{"in this window"},
                      w->header, counted(n.deferred, "due post waits", "due posts wait"));
        }
    } catch (interrupted const&) {
        throw; // a signal: stop now, recorded as interrupted
    } catch (temporary_failure const& e) {
        // The API said stop (429, outage): keep the batches written, compute
        // their v2 metrics, then exit 75.
        report_api();
        return e;
    }
    report_api();
    return followers_failed;
}

// The run's counts: in the ledger, in --json and as its last log line.
// Records observed before their post was posted: from a file, the whole run
// is refused unless --skip-bad; from the API they are skipped with a warning.
void refuse_or_skip_early(run_context& run, scrape_options const& opts,
                          scrape_counts const& n)
{
    if (n.early.count > 0) {
        auto const what = fmt::format(
            "{} observed before {} post was posted (by more than "
            "metrics.max_clock_skew_minutes, {}; e.g. {})",
            counted(n.early.count, "record", "records"),
            n.early.count == 1 ? "its" : "their",
            run.cfg().metrics.max_clock_skew_minutes, n.early.example.value_or("?"));
        if (opts.source == "file" && !opts.skip_bad) {
            // One transaction with everything above: nothing is written.
            throw data_error{
                fmt::format("{}: {}: a wrong tweet_id or observed_at? Nothing "
                            "was written; --skip-bad skips them",
                            n.input, what)};
        }
        log::warn("{}: skipped {}", n.input, what);
    }
}

// What was written without a part of its data, and why.
void warn_left_out(scrape_counts const& n, v2_result const& v2)
{
    if (v2.out_of_range.count > 0) {
        auto const over = v2.out_of_range.count;
        log::warn("{} attributed more follows than outcomes can hold (e.g. {}): {} "
                  "follower columns and score are left empty; look for "
                  "follower_snapshots or a source's follows no account has",
                  counted(over, "post was", "posts were"), *v2.out_of_range.example,
                  over == 1 ? "its" : "their");
    }
    if (n.time_off.count > 0) {
        log::warn("{} posted at another time than its posted_at says, by up to {} (e.g. "
                  "{}): whoever writes posted_at (the poster) writes another time than "
                  "the posting (a local time into a timestamp without time zone column, "
                  "the scheduled time, a clock that is off), and post_hour and the "
                  "follower attribution read it",
                  counted(n.time_off.count, "post X has", "posts X has"),
                  hours_text(n.most_off_seconds / 3600),
                  n.time_off.example.value_or("?"));
    }
    if (n.other_author.count > 0) {
        log::warn("{} by another account than the one whose follower count this reads "
                  "(e.g. {}): the follows attributed to {} are another account's; set "
                  "x_api.username to the posting account's handle, or use its token",
                  counted(n.other_author.count, "post is", "posts are"),
                  n.other_author.example.value_or("?"),
                  n.other_author.count == 1 ? "it" : "them");
    }
    if (n.unkeyed.count > 0) {
        log::warn(
            "{} no decision_id that is a uuid (e.g. tweet {}): no outcome can be "
            "stored for {}; give {} a uuid (xloop-validate's posted_items names "
            "one)",
            counted(n.unkeyed.count, "post with metrics has", "posts with metrics have"),
            n.unkeyed.example.value_or("?"), n.unkeyed.count == 1 ? "it" : "them",
            n.unkeyed.count == 1 ? "it" : "each");
    }
}

// "2 replies that named no account now name the one X says they answer
// (in_reply_to_user_id): …", if any.
void say_named(std::int64_t k, std::string_view whom, std::string_view from)
{
    if (k > 0) {
        log::info("{} no account now {} {} {} ({}): learn-replies learns from {}",
                  counted(k, "reply that named", "replies that named"),
                  k == 1 ? "names" : "name", whom, k == 1 ? "it answers" : "they answer",
                  from, k == 1 ? "it" : "them");
    }
}

void report_counts(run_context& run, scrape_counts& n, v2_result const& v2)
{
    // Rows written: the batch upserts' and the v2 pass's; records merged into
    // the v2 pass count as outcomes written too.
    run.rows_in = n.records;
    run.rows_out = n.written + v2.updated;
    n.written += v2.merged;
    for (auto const& [key, value] :
         {std::pair{"records", n.records},
          {"skipped_lines", n.skipped_lines},
          {"follower_snapshots", n.followers},
          {"outcomes_written", n.written},
          {"unknown_tweets", n.unknown},
          {"gone", n.gone},
          {"failed", n.failed},
          {"v2_updated", v2.updated},
          {"without_decision_id", n.unkeyed.count},
          {"follows_out_of_range", v2.out_of_range.count},
          {"not_newer", n.not_newer},
          {"observed_before_posting", n.early.count},
          {"posted_at_off", n.time_off.count},
          {"posts_by_another_account", n.other_author.count},
          {"reply_targets_named", n.named},
          {"reply_targets_from_opportunities", n.named_by_opportunity}}) {
        note(run, key, value);
    }
    // The reach follows were shared by (metrics.fit_reach), where validate
    // shows it: the best fit's half-life only where there was one.
    if (v2.reach && run.cfg().metrics.fit_reach) {
        note(run, "reach_fitted", v2.reach->fitted);
        note(run, "reach_half_life_hours", v2.reach->half_life_hours);
        note(run, "reply_follows_ratio", v2.reach->reply_ratio);
        if (auto const best = v2.reach->best_half_life_hours) {
            note(run, "reach_best_half_life_hours", *best);
        }
    }
    say_named(n.named_by_opportunity, "the author of the post",
              "reply_opportunities.tweet_author");
    say_named(n.named, "the one X says", "in_reply_to_user_id");
    if (n.not_newer > 0) {
        log::info("{} had records no newer than {} stored {}: left as they were",
                  counted(n.not_newer, "post", "posts"),
                  n.not_newer == 1 ? "its" : "their",
                  n.not_newer == 1 ? "outcome" : "outcomes");
    }
    log::info("{}: {} {}, {} {}, {}, {}, {} gone{}",
              counted(n.records, "record", "records"),
              counted(n.written, "outcome", "outcomes"),
              run.dry_run() ? "would be written" : "written",
              counted(v2.updated, "v2 row", "v2 rows"),
              run.dry_run() ? "would be updated" : "updated",
              counted(n.followers, "follower snapshot", "follower snapshots"),
              counted(n.unknown, "unknown tweet", "unknown tweets"), n.gone,
              run.dry_run() ? " (dry run: rolled back, nothing kept)" : "");
}

// How far back the v2 pass reaches beyond its usual range: as far as the
// learners read on a database scrape-metrics never ran ok on (`first`: the
// bot's history, adopted), or with --backfill; nowhere else.
std::optional<timestamp> backfill_to(run_context& run, scrape_options const& opts,
                                     bool first)
{
    auto& db = run.db();
    if (!opts.backfill && !first) {
        return std::nullopt;
    }
    auto const& m = run.cfg().metrics;
    auto const usual = last_days_text(std::ceil(m.max_age_days) + 1);
    auto const from = learners_reach_start(db, run.cfg(), run.now());
    if (!from || *from >= v2_window_of(run).write_from) {
        if (opts.backfill && from) {
            log::info("--backfill: the learners read no further back than the last {}, "
                      "which every run scores",
                      usual);
        } else if (opts.backfill) {
            log::info("--backfill: no post has an outcome to score");
        }
        return std::nullopt;
    }
    auto const shown = format_seconds(*from);
    run.summary()["backfill_from"] = shown;
    log::info("{}: scoring (v2) the stored outcomes of posts back to {} (as far as "
              "build-weights and learn-replies read), not only the last {}",
              first ? "the first run on this database" : "--backfill", shown, usual);
    return from;
}

} // namespace

void run_scrape_metrics(run_context& run, scrape_options const& opts)
{
    if (!run.dry_run()) {
        // Several transactions (one per batch): a lease, which holds through
        // a transaction-mode pooler, not a session lock.
        run.take_lease();
    }
    // asked before any transaction, which a ledger the role may not read
    // would abort
    bool const first = !opts.backfill && never_scraped(run.db());
    batch_transactions txs{run};
    scrape_counts n;
    std::optional<temporary_failure> stopped;
    if (opts.source == "file") {
        txs.open();
        from_file(run, opts, n);
    } else {
        stopped = from_x_api(run, opts, txs, n,
                             opts.backfill ? "--backfill"
                             : first       ? "the first run on this database"
                                           : "");
    }
    txs.open();
    v2_result v2;
    if (auto const from = backfill_to(run, opts, first)) {
        for (auto const& slice : backfill_slices(run.now(), run.cfg().metrics, *from)) {
            run.check_interrupted();
            v2.add(v2_pass(run, opts.source, slice));
        }
    }
    v2.add(v2_pass(run, opts.source, v2_window_of(run)));
    // Nothing posted lately, no reply new to name: the older ones were named
    // when they were (or by the first run's backfill); a run with nothing to
    // do is spared the statement.
    if (v2.posts > 0) {
        name_by_opportunity(run, n);
    }
    n.early.add(v2.early.count, v2.early.example);
    n.not_newer += v2.not_newer;
    refuse_or_skip_early(run, opts, n);
    txs.commit();
    n.unkeyed.add(v2.unkeyed.count, v2.unkeyed.example);
    warn_left_out(n, v2);
    report_counts(run, n, v2);
    if (stopped) {
        throw *stopped;
    }
}

} // namespace xloop
