#include "scrape_metrics_job.hpp"

#include "attribution.hpp"
#include "classify.hpp"
#include "copy_row.hpp"
#include "log.hpp"
#include "metrics_file.hpp"
#include "x_api.hpp"

#include <fstream>
#include <iostream>

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

// Raw records of one batch; cleared at each commit.
constexpr char const* create_inbox = R"sql(
CREATE TEMP TABLE IF NOT EXISTS xloop_metrics_in (
    kind text NOT NULL,              -- 'm': a post's metrics, 'f': follower counts
    tweet_id text, observed_at timestamptz NOT NULL,
    impressions bigint, likes bigint, retweets bigint, replies bigint, quotes bigint,
    bookmarks bigint, profile_clicks bigint, follows bigint,
    followers bigint, following bigint, tweets bigint
) ON COMMIT DELETE ROWS)sql";

// One upsert per batch: the newest record of each decision wins, and an older
// observation never overwrites a newer one; unknown counts keep their value.
constexpr char const* apply_inbox = R"sql(
INSERT INTO public.outcomes AS o
    (decision_id, tweet_id, impressions, views, likes, retweets, replies, quotes, bookmarks,
     profile_clicks, follows, collected_at, data_source, simulated)
SELECT DISTINCT ON (c.decision_id)
       c.decision_id, i.tweet_id, i.impressions, i.impressions, i.likes, i.retweets,
       i.replies, i.quotes, i.bookmarks, i.profile_clicks, i.follows, i.observed_at, $1, false
  FROM xloop_metrics_in i
  JOIN public.content_generation_metadata_comprehensive c ON c.tweet_id = i.tweet_id
 WHERE i.kind = 'm'
 ORDER BY c.decision_id, i.observed_at DESC
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
WHERE o.collected_at IS NULL OR o.collected_at < EXCLUDED.collected_at
   OR (o.collected_at = EXCLUDED.collected_at
       AND (o.impressions, o.likes, o.retweets, o.replies, o.quotes, o.bookmarks,
            o.profile_clicks, o.follows, o.data_source)
           IS DISTINCT FROM
           (coalesce(EXCLUDED.impressions, o.impressions), coalesce(EXCLUDED.likes, o.likes),
            coalesce(EXCLUDED.retweets, o.retweets), coalesce(EXCLUDED.replies, o.replies),
            coalesce(EXCLUDED.quotes, o.quotes), coalesce(EXCLUDED.bookmarks, o.bookmarks),
            coalesce(EXCLUDED.profile_clicks, o.profile_clicks),
            coalesce(EXCLUDED.follows, o.follows), EXCLUDED.data_source)))sql";

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

struct v2_post {
    std::string decision_id;
    bool has_outcome = false;
    post_counts counts;
    std::string hook, cta, structure;
};

struct scrape_counts {
    std::int64_t records = 0;
    std::int64_t followers = 0;
    std::int64_t written = 0;
    std::int64_t unknown = 0;
    std::int64_t gone = 0;
    std::int64_t failed = 0;
};

// In a dry run everything happens in one transaction that is rolled back.
class batch_transactions {
public:
    batch_transactions(db_connection& db, bool dry_run) : m_db(db), m_dry(dry_run)
    {
        m_tx = std::make_unique<transaction>(db);
    }
    void commit()
    {
        if (!m_dry) {
            m_tx->commit();
            m_tx = std::make_unique<transaction>(m_db);
        }
    }

private:
    db_connection& m_db;
    bool m_dry;
    std::unique_ptr<transaction> m_tx;
};

void add_counts(copy_writer& w, post_counts const& c, std::optional<std::int64_t> follows)
{
    for (auto const& v : {c.impressions, c.likes, c.retweets, c.replies, c.quotes,
                          c.bookmarks, c.profile_clicks, follows}) {
        w.add(v);
    }
}

std::int64_t affected(db_result const& r)
{
    return std::atoll(PQcmdTuples(r.raw()));
}

// Applies the batch in the inbox; reports records of unknown tweets.
void apply_batch(run_context& run, std::string const& source, scrape_counts& n)
{
    auto& db = run.db();
    phase_timer timer{"applying the batch"};
    n.followers += affected(db.exec(apply_followers, source));
    n.written += affected(db.exec(apply_inbox, source));
    auto const unknown = db.exec("SELECT count(*), (array_agg(tweet_id ORDER BY "
                                 "tweet_id))[1:5] FROM xloop_metrics_in i "
                                 "WHERE kind = 'm' AND NOT EXISTS (SELECT 1 FROM "
                                 "public.content_generation_metadata_comprehensive c "
                                 "WHERE c.tweet_id = i.tweet_id)");
    if (auto const k = unknown.i64(0, 0); k > 0) {
        n.unknown += k;
        log::warn(
            "{} records for tweet ids not in content_generation_metadata_comprehensive "
            "skipped (e.g. {})",
            k, unknown.str(0, 1));
    }
}

void from_file(run_context& run, scrape_options const& opts, batch_transactions& txs,
               scrape_counts& n)
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
        bad = read_metrics_file(*in, name, opts.skip_bad,
                                {[&](metrics_record const& r) {
                                     w.add(std::string_view{"m"});
                                     w.add(std::string_view{r.tweet_id});
                                     w.add(r.observed_at);
                                     add_counts(w, r.counts, r.follows);
                                     for (int i = 0; i < 3; ++i) {
                                         w.add_null();
                                     }
                                     w.end_row();
                                     ++n.records;
                                 },
                                 [&](follower_record const& r) {
                                     w.add(std::string_view{"f"});
                                     w.add_null();
                                     w.add(r.observed_at);
                                     for (int i = 0; i < 8; ++i) {
                                         w.add_null();
                                     }
                                     w.add(std::optional<std::int64_t>{r.followers});
                                     w.add(r.following);
                                     w.add(r.tweets);
                                     w.end_row();
                                     ++n.records;
                                 }});
        w.finish();
    }
    for (auto const& b : bad) {
        log::warn("{}:{}: skipped: {}", name, b.line, b.reason);
    }
    run.summary["skipped_lines"] = bad.size();
    apply_batch(run, "file", n);
    txs.commit();
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
            w.add(std::string_view{"f"});
            w.add_null();
            w.add(run.now());
            for (int i = 0; i < 8; ++i) {
                w.add_null();
            }
            w.add(std::optional<std::int64_t>{me.followers});
            w.add(me.following);
            w.add(me.tweets);
            w.end_row();
            w.finish();
        }
        apply_batch(run, "x-api", n);
        txs.commit();

        std::vector<double> ages = m.due_ages_hours;
        std::string ages_param = "{";
        for (std::size_t i = 0; i < ages.size(); ++i) {
            ages_param += fmt::format("{}{}", i ? "," : "", ages[i]);
        }
        ages_param += "}";
        // One day beyond max_age_days so the last checkpoint (30 d) is caught.
        auto const due = db.exec(select_due, run.now(),
                                 static_cast<int>(std::ceil(m.max_age_days)) + 1,
                                 ages_param, opts.max_posts.value_or(m.max_posts));
        run.summary["due"] = due.rows();
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
                    w.add(std::string_view{"m"});
                    w.add(std::string_view{t.id});
                    w.add(run.now());
                    add_counts(w, t.counts, std::nullopt);
                    for (int i = 0; i < 3; ++i) {
                        w.add_null();
                    }
                    w.end_row();
                    ++n.records;
                }
                w.finish();
            }
            apply_batch(run, "x-api", n);
            if (!page.gone.empty()) {
                n.gone += affected(db.exec(
                    "UPDATE public.content_generation_metadata_comprehensive SET "
                    "metrics_gone_at = $1::timestamptz WHERE tweet_id IN (SELECT "
                    "jsonb_array_elements_text($2::jsonb)) AND metrics_gone_at IS NULL",
                    run.now(), nlohmann::json(page.gone).dump()));
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
        run.summary["x_api_requests"] = api.requests();
        return e;
    }
    run.summary["x_api_requests"] = api.requests();
    return std::nullopt;
}

// The v2 pass: ER, follower attribution, confidence, fgw, score and types for
// every post of the attribution range, posts and replies alike. Only rows
// whose values change are written, so a run with nothing new writes nothing
// and a post's fgw rises as its window gains snapshots (re-attribution).
std::int64_t v2_pass(run_context& run)
{
    auto& db = run.db();
    phase_timer timer{"the v2 pass"};
    auto const& m = run.cfg().metrics;
    auto const write_from =
        run.now() - fractional_hours(24 * (std::ceil(m.max_age_days) + 1));
    auto const posts_from = write_from - fractional_hours(m.attribution_window_hours);
    set_local_settings(db, {{"xloop.now", format_timestamp(run.now())},
                            {"xloop.posts_from", format_timestamp(posts_from)}});

    std::vector<follower_snapshot> snaps;
    auto const s = db.exec("(SELECT snapshot_at, follower_count FROM "
                           "public.follower_snapshots WHERE snapshot_at "
                           "<= $1::timestamptz AND follower_count IS NOT NULL ORDER BY "
                           "snapshot_at DESC LIMIT 1) "
                           "UNION ALL (SELECT snapshot_at, follower_count FROM "
                           "public.follower_snapshots WHERE "
                           "snapshot_at > $1::timestamptz AND snapshot_at <= "
                           "$2::timestamptz AND follower_count "
                           "IS NOT NULL) ORDER BY 1",
                           posts_from - fractional_hours(24), run.now());
    for (int i = 0; i < s.rows(); ++i) {
        snaps.push_back({*parse_timestamp(s.get(i, 0)), s.i64(i, 1)});
    }

    std::vector<attribution_post> aposts;
    std::vector<v2_post> posts;
    binary_copy_reader reader;
    auto opt_int = [](binary_copy_reader const& r, std::size_t i) {
        return r.is_null(i) ? std::nullopt : std::optional<std::int64_t>{r.int8(i)};
    };
    db.copy_out(
        "COPY (SELECT c.decision_id::text, c.posted_at, coalesce(c.decision_type, ''), "
        "c.hook_type, c.cta_type, c.structure_type, coalesce(c.content, ''), "
        "c.thread_parts IS NOT NULL, o.decision_id IS NOT NULL, o.impressions::int8, "
        "o.likes::int8, o.retweets::int8, o.replies::int8, o.quotes::int8, "
        "o.bookmarks::int8, "
        "o.profile_clicks::int8, o.follows::int8 "
        "FROM public.content_generation_metadata_comprehensive c "
        "LEFT JOIN public.outcomes o ON o.decision_id = c.decision_id "
        "WHERE c.status = 'posted' AND c.tweet_id IS NOT NULL "
        "AND c.posted_at > (SELECT current_setting('xloop.posts_from')::timestamptz) "
        "AND c.posted_at <= (SELECT current_setting('xloop.now')::timestamptz)) "
        "TO STDOUT (FORMAT binary)",
        [&](std::string_view message) {
            reader.feed(message, [&](binary_copy_reader const& r) {
                v2_post p;
                p.decision_id = r.text(0);
                p.has_outcome = r.boolean(8);
                p.counts = {opt_int(r, 9),  opt_int(r, 10), opt_int(r, 11),
                            opt_int(r, 12), opt_int(r, 13), opt_int(r, 14),
                            opt_int(r, 15)};
                bool const thread = r.boolean(7);
                auto const content = r.text(6);
                p.hook = r.is_null(3) ? classify_hook(content) : std::string{r.text(3)};
                p.cta = r.is_null(4) ? classify_cta(content) : std::string{r.text(4)};
                p.structure = r.is_null(5) ? classify_structure(r.text(2), thread)
                                           : std::string{r.text(5)};
                timestamp const posted{
                    std::chrono::microseconds{r.timestamptz_unix_micros(1)}};
                aposts.push_back({posted, p.counts.impressions, opt_int(r, 16)});
                if (posted <= write_from) {
                    p.has_outcome = false; // context for sharing only
                }
                posts.push_back(std::move(p));
            });
        },
        true);

    log::debug("v2 pass: {} posts and {} snapshots read after {} ms", posts.size(),
               snaps.size(), timer.elapsed_ms());
    auto const attributed =
        attribute_followers(snaps, aposts, m.attribution_window_hours, run.now());

    db.exec("CREATE TEMP TABLE IF NOT EXISTS xloop_v2 (decision_id uuid PRIMARY KEY, "
            "engagement_rate numeric(5,4), followers_gained integer, followers_before "
            "integer, "
            "followers_after integer, followers_gained_weighted numeric(10,4), "
            "primary_objective_score numeric(10,6), attribution_confidence numeric(5,4), "
            "hook_type text, cta_type text, structure_type text) ON COMMIT DELETE ROWS");
    {
        copy_writer w{db, "COPY xloop_v2 FROM STDIN"};
        for (std::size_t i = 0; i < posts.size(); ++i) {
            auto const& p = posts[i];
            if (!p.has_outcome) {
                continue;
            }
            auto const& a = attributed[i];
            auto const er = engagement_rate(p.counts, m.engagement_fields);
            w.add(std::string_view{p.decision_id});
            w.add(er);
            w.add(std::optional<std::int64_t>{std::llround(a.gain)});
            w.add(a.followers_before);
            w.add(a.followers_after);
            w.add(a.weighted());
            w.add(primary_objective_score(er, a.weighted(), m.score));
            w.add(a.confidence);
            w.add(std::string_view{p.hook});
            w.add(std::string_view{p.cta});
            w.add(std::string_view{p.structure});
            w.end_row();
        }
        w.finish();
    }
    log::debug("v2 pass: computed and copied after {} ms", timer.elapsed_ms());
    auto const updated = affected(db.exec(R"sql(
UPDATE public.outcomes o SET
    engagement_rate = t.engagement_rate, followers_gained = t.followers_gained,
    followers_before = t.followers_before, followers_after = t.followers_after,
    followers_gained_weighted = t.followers_gained_weighted,
    primary_objective_score = t.primary_objective_score,
    attribution_confidence = t.attribution_confidence,
    hook_type = t.hook_type, cta_type = t.cta_type, structure_type = t.structure_type,
    updated_at = $1::timestamptz
  FROM xloop_v2 t
 WHERE o.decision_id = t.decision_id
   AND (o.engagement_rate, o.followers_gained, o.followers_before, o.followers_after,
        o.followers_gained_weighted, o.primary_objective_score, o.attribution_confidence,
        o.hook_type, o.cta_type, o.structure_type)
       IS DISTINCT FROM
       (t.engagement_rate, t.followers_gained, t.followers_before, t.followers_after,
        t.followers_gained_weighted, t.primary_objective_score, t.attribution_confidence,
        t.hook_type, t.cta_type, t.structure_type))sql",
                                          run.now()));
    log::debug("v2 pass: outcomes updated after {} ms", timer.elapsed_ms());
    // The original bot's columns on the base table follow the outcome.
    db.exec(R"sql(
UPDATE public.content_generation_metadata_comprehensive c SET
    actual_impressions = o.impressions, actual_likes = o.likes,
    actual_retweets = o.retweets, actual_replies = o.replies,
    actual_engagement_rate = o.engagement_rate,
    actual_followers_gained = o.followers_gained_weighted,
    actual_primary_objective_score = o.primary_objective_score,
    metrics_collected_at = o.collected_at
  FROM xloop_v2 t JOIN public.outcomes o ON o.decision_id = t.decision_id
 WHERE c.decision_id = t.decision_id
   AND (c.actual_impressions, c.actual_likes, c.actual_retweets, c.actual_replies,
        c.actual_engagement_rate, c.actual_followers_gained,
        c.actual_primary_objective_score, c.metrics_collected_at)
       IS DISTINCT FROM
       (o.impressions, o.likes, o.retweets, o.replies, o.engagement_rate,
        o.followers_gained_weighted, o.primary_objective_score, o.collected_at))sql");
    return updated;
}

} // namespace

void run_scrape_metrics(run_context& run, scrape_options const& opts)
{
    auto& db = run.db();
    if (!run.dry_run()) {
        // Several transactions (one per batch): a session-scoped lock, so this
        // tool needs a direct connection or a session-mode pooler.
        run.lock_session();
    }
    batch_transactions txs{db, run.dry_run()};
    db.exec(create_inbox);
    scrape_counts n;
    std::optional<temporary_failure> stopped;
    if (opts.source == "file") {
        from_file(run, opts, txs, n);
    } else {
        stopped = from_x_api(run, opts, txs, n);
    }
    auto const v2 = v2_pass(run);
    txs.commit();

    run.rows_in = n.records;
    run.rows_out = n.written + v2;
    for (auto const& [key, value] : {std::pair{"records", n.records},
                                     {"follower_snapshots", n.followers},
                                     {"outcomes_written", n.written},
                                     {"unknown_tweets", n.unknown},
                                     {"gone", n.gone},
                                     {"failed", n.failed},
                                     {"v2_updated", v2}}) {
        run.summary[key] = value;
        run.detail[key] = value;
    }
    log::info(
        "{} records: {} outcomes written, {} v2 rows updated, {} follower snapshots, "
        "{} unknown tweets, {} gone{}",
        n.records, n.written, v2, n.followers, n.unknown, n.gone,
        run.dry_run() ? " (dry run: rolled back, nothing kept)" : "");
    if (stopped) {
        throw *stopped;
    }
}

} // namespace xloop
