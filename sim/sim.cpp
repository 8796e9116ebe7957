// xloop-sim: plays the outside world around the loop for simulated days, so
// the whole loop runs in seconds and its learning can be scored against a
// hidden truth (DESIGN §8). The world is a file (sim/worlds/*.yaml, see
// world.hpp). The simulator posts what is queued, harvests reply
// opportunities, serves a fake X API on 127.0.0.1 whose metrics come from the
// world's hidden effects, and runs the learning jobs on their cron cadence
// with `now` moving forward: in-process, through the same run frame as the
// tools (app.hpp's run_job), so sixty days take seconds, not minutes.
// Deterministic for a given world and --seed. Not installed: a development,
// demo and benchmark tool.

#include "app.hpp"
#include "build_weights_job.hpp"
#include "db.hpp"
#include "error.hpp"
#include "learn_replies_job.hpp"
#include "local_server.hpp"
#include "log.hpp"
#include "plan_job.hpp"
#include "policy_value.hpp"
#include "scrape_metrics_job.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"
#include "terminal.hpp"
#include "text.hpp"
#include "timestamp.hpp"
#include "world.hpp"

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib> // setenv
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

using nlohmann::json;
using namespace xloop;
using namespace xloop::sim;

namespace {

// The poster publishes what is due, and says what it published: the
// dimensions of each post as plan stored them, in the base table's columns.
// It runs on the multiples of $4 seconds (0: at each post's time).
constexpr char const* publish_sql = R"sql(
WITH due AS (
SELECT id, CASE WHEN $4::int > 0
                THEN to_timestamp(ceil(extract(epoch FROM coalesce(scheduled_at, created_at))
                                       / $4::int) * $4::int)
                ELSE coalesce(scheduled_at, created_at) END AS run_at
  FROM public.content_generation_metadata_comprehensive
 WHERE status = 'queued')
UPDATE public.content_generation_metadata_comprehensive c
   SET status = 'posted', tweet_id = (9000000000 + c.id)::text,
       posted_at = greatest(d.run_at, c.created_at)
  FROM due d
 WHERE c.id = d.id AND d.run_at <= $1::timestamptz
RETURNING c.id, c.tweet_id, coalesce(c.decision_type, ''), coalesce(c.content_slot, ''),
       coalesce(c.generator_name, ''), coalesce(c.raw_topic, ''), coalesce(c.tone, ''),
       coalesce(c.hook_type, ''), coalesce(c.cta_type, ''),
       to_char(c.posted_at AT TIME ZONE $3, 'HH24'),
       coalesce(lower(c.target_username), ''),
       extract(epoch FROM c.posted_at - $2::timestamptz) / 86400)sql";

struct post {
    std::int64_t id = 0;
    std::string tweet_id;
    bool reply = false;
    attributes attrs;
    std::string target;
    double day = 0; // posted, in days since the start
};

// `zone`: plan.timezone, whose hours the world's times are.
std::vector<post> publish(db_connection& db, timestamp now, timestamp start,
                          std::string const& zone, int poster_every_minutes)
{
    auto const r = db.exec(publish_sql, now, start, zone, 60 * poster_every_minutes);
    std::vector<post> out;
    for (int i = 0; i < r.rows(); ++i) {
        post p;
        p.id = r.i64(i, 0);
        p.tweet_id = r.str(i, 1);
        p.reply = r.str(i, 2) == "reply";
        if (!p.reply) {
            p.attrs = {{"decision_type", r.str(i, 2)},  {"content_slot", r.str(i, 3)},
                       {"generator_name", r.str(i, 4)}, {"topic", r.str(i, 5)},
                       {"tone", r.str(i, 6)},           {"hook_type", r.str(i, 7)},
                       {"cta_type", r.str(i, 8)},       {"post_hour", r.str(i, 9)}};
        }
        p.target = r.str(i, 10);
        p.day = r.f64(i, 11);
        out.push_back(std::move(p));
    }
    // One order: the same sums, bit for bit, every run.
    std::sort(out.begin(), out.end(),
              [](auto const& a, auto const& b) { return a.id < b.id; });
    return out;
}

expectation expected_of(world_spec const& w, post const& p)
{
    return p.reply ? expected_reply(w, p.target) : expected_post(w, p.attrs, p.day);
}

// ---- the fake X API ----------------------------------------------------------

class x_api_server {
public:
    // Every `rate_limit_every`-th /2/tweets request is answered 429 (0: none);
    // /2/users/me past `followers_limit` requests in 24 h too (0: no limit).
    x_api_server(world_spec const& w, std::uint64_t seed, timestamp start,
                 int rate_limit_every, int followers_limit)
        : m_world(w), m_seed(seed), m_start(start), m_rate_limit_every(rate_limit_every),
          m_followers_limit(followers_limit)
    {
        m_server.Get("/2/users/me", [this](httplib::Request const&,
                                           httplib::Response& res) {
            if (auto const a = followers_allowance()) {
                // what is left of the window, as X says in every answer
                res.set_header("x-rate-limit-limit", std::to_string(m_followers_limit));
                res.set_header("x-rate-limit-remaining", std::to_string(a->remaining));
                res.set_header("x-rate-limit-reset", std::to_string(a->reset));
                if (a->refused) {
                    res.status = 429;
                    res.set_content(R"({"title": "Too Many Requests"})",
                                    "application/json");
                    return;
                }
            }
            res.set_content(json{{"data",
                                  {{"id", "1"},
                                   {"username", "xloop_sim"},
                                   {"public_metrics",
                                    {{"followers_count", followers()},
                                     {"following_count", 150},
                                     {"tweet_count", 1000}}}}}}
                                .dump(),
                            "application/json");
        });
        m_server.Get("/2/tweets", [this](httplib::Request const& req,
                                         httplib::Response& res) {
            std::lock_guard lock{m_mutex};
            if (m_rate_limit_every > 0 && ++m_tweet_requests % m_rate_limit_every == 0) {
                // The window resets in 15 minutes, as X's do.
                auto const reset =
                    std::chrono::duration_cast<std::chrono::seconds>(
                        (now() + std::chrono::minutes{15}).time_since_epoch())
                        .count();
                res.status = 429;
                res.set_header("x-rate-limit-reset", std::to_string(reset));
                res.set_content(R"({"title": "Too Many Requests"})", "application/json");
                return;
            }
            json data = json::array();
            std::string const ids_text = req.get_param_value("ids"); // a copy: keep it
            std::string_view ids = ids_text;
            while (!ids.empty()) {
                auto const comma = std::min(ids.find(','), ids.size());
                auto const it = m_by_id.find(std::string{ids.substr(0, comma)});
                if (it != m_by_id.end()) {
                    data.push_back(tweet_json(m_posts[it->second]));
                }
                ids.remove_prefix(std::min(ids.size(), comma + 1));
            }
            res.set_content(json{{"data", data}}.dump(), "application/json");
        });
        m_port = bind_loopback(m_server);
        m_thread = start_listening(m_server);
    }
    ~x_api_server()
    {
        m_server.stop();
        m_thread.join();
    }
    x_api_server(x_api_server const&) = delete;
    x_api_server& operator=(x_api_server const&) = delete;

    std::string base_url() const { return fmt::format("http://127.0.0.1:{}", m_port); }
    void set_now(double day)
    {
        std::lock_guard lock{m_mutex};
        m_day = day;
    }

    // Posts go on X: what they will really do is fixed now.
    void publish(std::vector<post> const& posts)
    {
        std::lock_guard lock{m_mutex};
        for (auto const& p : posts) {
            m_by_id[p.tweet_id] = m_posts.size();
            m_posts.push_back(
                {p, realised(m_world, expected_of(m_world, p), m_seed, p.tweet_id)});
        }
    }

    std::vector<post> posts() const
    {
        std::lock_guard lock{m_mutex};
        std::vector<post> out;
        for (auto const& p : m_posts) {
            out.push_back(p.p);
        }
        return out;
    }

    // The account's followers: its start and drift, plus what each post
    // brought over its first day.
    std::int64_t followers() const
    {
        std::lock_guard lock{m_mutex};
        double f = m_world.followers + drift(m_world, m_seed, m_day);
        for (auto const& p : m_posts) {
            f += p.real.follows * grown_share(m_world, age_hours(p), true);
        }
        return std::llround(f);
    }

    // The file source's view (scrape-metrics --source file, as from X's
    // analytics export): a line per post younger than a week, with its
    // follows, and the account's followers.
    void write_metrics_file(std::filesystem::path const& path) const
    {
        auto const followers_now = followers();
        std::lock_guard lock{m_mutex};
        auto const observed = format_timestamp(now());
        std::ofstream out{path, std::ios::trunc};
        out << json{{"observed_at", observed}, {"followers", followers_now}}.dump()
            << '\n';
        for (auto const& p : m_posts) {
            if (age_hours(p) > 7 * 24) {
                continue;
            }
            auto const c = counts_of(p);
            out << json{{"tweet_id", p.p.tweet_id},
                        {"observed_at", observed},
                        {"impressions", c.impressions},
                        {"likes", c.likes},
                        {"retweets", c.retweets},
                        {"replies", c.replies},
                        {"quotes", 0},
                        {"bookmarks", c.bookmarks},
                        {"profile_clicks", c.profile_clicks},
                        {"follows", c.follows}}
                       .dump()
                << '\n';
        }
        if (!out.flush()) {
            throw std::runtime_error{
                fmt::format("{}: cannot write the metrics file", path.string())};
        }
    }

private:
    struct live_post {
        post p;
        expectation real;
    };

    timestamp now() const
    {
        return m_start + std::chrono::microseconds{std::llround(m_day * 86400e6)};
    }

    // X's 24-hour window from its first request, this request counted in it
    // unless it is refused (past followers_limit): none without a limit.
    struct allowance {
        bool refused = false;
        int remaining = 0;
        std::int64_t reset = 0; // Unix seconds
    };
    std::optional<allowance> followers_allowance()
    {
        std::lock_guard lock{m_mutex};
        if (m_followers_limit <= 0) {
            return std::nullopt;
        }
        if (!m_followers_window || m_day - *m_followers_window >= 1) {
            m_followers_window = m_day;
            m_followers_requests = 0;
        }
        allowance a;
        a.refused = m_followers_requests >= m_followers_limit;
        m_followers_requests += a.refused ? 0 : 1;
        a.remaining = m_followers_limit - m_followers_requests;
        a.reset = std::chrono::duration_cast<std::chrono::seconds>(
                      (m_start + std::chrono::microseconds{std::llround(
                                     (*m_followers_window + 1) * 86400e6)})
                          .time_since_epoch())
                      .count();
        return a;
    }

    double age_hours(live_post const& p) const { return (m_day - p.p.day) * 24; }

    // What a post has done by now (grown_share: impressions saturate over
    // the first day; counts follow them; follows come as followers() counts
    // them).
    struct counts {
        std::int64_t impressions, likes, retweets, replies, bookmarks, profile_clicks,
            follows;
    };
    counts counts_of(live_post const& p) const
    {
        auto const& real = p.real;
        double const grown = grown_share(m_world, age_hours(p), false);
        auto const imp = std::llround(real.impressions * grown);
        auto const eng = static_cast<double>(imp) * real.engagement_rate;
        // Profile clicks come before follows: about three per follow.
        return {imp,
                std::llround(eng * 0.7),
                std::llround(eng * 0.2),
                std::llround(eng * 0.1),
                std::llround(eng * 0.05),
                std::llround(eng * 0.1 + 3 * real.follows * grown),
                std::llround(real.follows * grown_share(m_world, age_hours(p), true))};
    }

    json tweet_json(live_post const& p) const
    {
        auto const c = counts_of(p);
        auto const posted =
            m_start + std::chrono::microseconds{std::llround(p.p.day * 86400e6)};
        return {{"id", p.p.tweet_id},
                {"author_id", "1"}, // the account's (GET /2/users/me)
                {"created_at", format_timestamp(posted)},
                {"public_metrics",
                 {{"impression_count", c.impressions},
                  {"like_count", c.likes},
                  {"retweet_count", c.retweets},
                  {"reply_count", c.replies},
                  {"quote_count", 0},
                  {"bookmark_count", c.bookmarks}}},
                {"non_public_metrics",
                 {{"impression_count", c.impressions},
                  {"user_profile_clicks", c.profile_clicks}}}};
    }

    world_spec const& m_world;
    std::uint64_t m_seed;
    timestamp m_start;
    int m_rate_limit_every;
    int m_tweet_requests = 0;
    int m_followers_limit;
    std::optional<double> m_followers_window; // its first request, in days
    int m_followers_requests = 0;
    mutable std::mutex m_mutex;
    double m_day = 0; // now, in days since the start
    std::vector<live_post> m_posts;
    std::map<std::string, std::size_t> m_by_id;
    httplib::Server m_server;
    std::thread m_thread;
    int m_port = 0;
};

// ---- running the loop ----------------------------------------------------------

struct options {
    std::optional<std::string> db;
    int days = 7;
    std::string start = "2026-03-01T00:00:00Z";
    std::uint64_t seed = 1;
    std::string world = XLOOP_SIM_WORLDS "/default.yaml";
    std::string policy = "xloop";
    std::string metrics = "api"; // api | file
    std::optional<std::string> html;
    bool json_out = false;
    bool rescore = false;
    int rate_limit_every = 0;
    int followers_limit = 0;
    std::optional<std::string> config_extra;
    int tick_minutes = 20; // the poster's and the clock's step
    // Cron intervals in minutes (scrape-metrics: every tick unless given).
    std::vector<std::string> every_text; // JOB=MINUTES
    std::map<std::string, int> every{
        {"plan", 60}, {"learn-replies", 90}, {"build-weights", 360}};
    // --down DAY:DAYS: xloop's cron host is down (no tool runs) from the
    // start of day DAY for DAYS days; the poster and the world go on.
    std::optional<std::string> down_text;
    double down_from = 0, down_days = 0; // in days since the start
    // --export-down DAY:DAYS: the export that writes the metrics file
    // (--metrics file) stops; scrape-metrics reads the file as it was left.
    std::optional<std::string> export_down_text;
    double export_down_from = 0, export_down_days = 0;
};

// Whether a job every `every` minutes is due at the tick at `minute`: the
// first tick at or after each multiple of `every`.
bool due(int minute, int every, int tick)
{
    return minute == 0 || minute / every != (minute - tick) / every;
}

std::filesystem::path bin_dir()
{
    return std::filesystem::read_symlink("/proc/self/exe").parent_path();
}

// Runs the jobs in-process, each in its own run frame and ledger row, as
// cron would run the tools; migrate and validate run as the binaries.
class runner {
public:
    runner(options const& o, db_connection& db, std::string config_file, config cfg)
        : m_opts(o), m_db(db), m_config_file(std::move(config_file)),
          m_cfg(std::move(cfg))
    {
        m_common.db = o.db;
        m_common.quiet = 1;
    }

    // An exit code not in `expected` stops the simulation.
    exit_code job(std::string const& name, timestamp now, std::uint64_t seed,
                  std::function<void(run_context&)> const& body,
                  std::set<exit_code> const& expected = {exit_code::ok})
    {
        auto const r = run_job(
            [&] {
                // On the simulator's connection: a connection per run (as
                // from cron) would take most of the simulation's time.
                auto ctx =
                    std::make_unique<run_context>(name, m_common, m_cfg, now, seed);
                ctx->use_connection(m_db);
                return ctx;
            },
            body);
        if (!expected.count(r.code)) {
            throw error{fmt::format("xloop-{} at {} exited {}: {}", name,
                                    format_timestamp(now), static_cast<int>(r.code),
                                    r.error_text)};
        }
        return r.code;
    }

    process_result tool(std::string const& name, std::vector<std::string> args,
                        timestamp now, std::set<int> const& expected = {0})
    {
        std::vector<std::string> argv{(bin_dir() / ("xloop-" + name)).string()};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), {"--config", m_config_file, "-q"});
        if (m_opts.db) {
            argv.insert(argv.end(), {"--db", *m_opts.db});
        }
        process_spec spec;
        spec.argv = std::move(argv);
        spec.env = {{"XLOOP_NOW", format_timestamp(now)}};
        // validate's report is shown after ours: at our terminal's width
        if (auto const columns = output_columns(); columns > 0) {
            spec.env["COLUMNS"] = std::to_string(columns);
        }
        spec.timeout_ms = 120000;
        auto const r = run_process(spec);
        if (!expected.count(r.exit_code)) {
            throw error{fmt::format("xloop-{} at {} exited {}: {}", name,
                                    format_timestamp(now), r.exit_code, r.err)};
        }
        return r;
    }

    config const& cfg() const { return m_cfg; }

private:
    options const& m_opts;
    db_connection& m_db;
    std::string m_config_file;
    config m_cfg;
    common_options m_common;
};

// The original bot's planning, for comparison (bench/learning): content_slot
// from a fixed weekday table, the generator by 80/20 roulette over the active
// map (its best, else any), 40 % threads, the rest uniform, posts at fixed
// times spread over the day; replies by opportunity score alone.
class original_policy {
public:
    original_policy(world_spec const& w, std::uint64_t seed) : m_rng(seed)
    {
        auto const k = static_cast<std::size_t>(w.posts_per_day);
        for (std::size_t i = 0; i < k; ++i) {
            m_hours.insert(std::stoi(w.times[i * w.times.size() / k].substr(0, 2)));
        }
    }

    // `zone`: plan.timezone, whose hours and days the world's times are.
    void plan_post(db_connection& db, timestamp now, std::string const& zone)
    {
        // weekday: Monday 0
        auto const local = db.exec("SELECT extract(hour FROM t)::int, "
                                   "(extract(isodow FROM t)::int + 6) % 7 "
                                   "FROM (SELECT $1::timestamptz AT TIME ZONE $2 AS t) l",
                                   now, zone);
        int const hour = static_cast<int>(local.i64(0, 0));
        int const weekday = static_cast<int>(local.i64(0, 1));
        if (!m_hours.count(hour)) {
            return;
        }
        static std::vector<std::string> const weekday_slots{
            "myth_busting", "how_to",     "hot_take",    "data_story",
            "tool_tip",     "case_study", "myth_busting"}; // Monday first
        auto const cat = plan_catalogue(plan_config{});
        auto const any = [&](std::string const& dim) {
            auto const& v = cat.at(dim);
            return v[std::uniform_int_distribution<std::size_t>{0, v.size() - 1}(m_rng)];
        };
        auto const best = db.exec(R"sql(
SELECT k FROM public.learning_model_weights, jsonb_each_text(weights->'generator_name') w(k, v)
 WHERE is_active ORDER BY v::float8 DESC, k LIMIT 1)sql");
        std::uniform_real_distribution<double> u;
        std::string const generator =
            best.rows() && u(m_rng) < 0.8 ? best.str(0, 0) : any("generator_name");
        json const row{{"decision_type", u(m_rng) < 0.4 ? "thread" : "single"},
                       {"content_slot", weekday_slots[static_cast<std::size_t>(weekday)]},
                       {"generator_name", generator},
                       {"raw_topic", any("topic")},
                       {"tone", any("tone")},
                       {"hook_type", any("hook_type")},
                       {"cta_type", any("cta_type")}};
        db.exec(R"sql(
INSERT INTO public.content_generation_metadata_comprehensive
    (decision_id, status, generation_source, decision_type, content, content_hash,
     scheduled_at, features, content_slot, generator_name, raw_topic, tone, hook_type,
     cta_type, created_at, updated_at)
SELECT gen_random_uuid(), 'queued', 'original', x.decision_type, 'post at ' || $2,
       md5('post at ' || $2), $2::timestamptz, '{}', x.content_slot, x.generator_name,
       x.raw_topic, x.tone, x.hook_type, x.cta_type, $2::timestamptz, $2::timestamptz
  FROM jsonb_to_record($1::jsonb) AS x(decision_type text, content_slot text,
       generator_name text, raw_topic text, tone text, hook_type text, cta_type text))sql",
                row.dump(), now);
    }

    // The open opportunity with the best score (ties: the oldest).
    void plan_reply(db_connection& db, timestamp now, std::string const& open_sql)
    {
        db.exec(fmt::format(R"sql(
WITH pick AS ({} ORDER BY opportunity_score DESC, id LIMIT 1),
ins AS (
INSERT INTO public.content_generation_metadata_comprehensive
    (decision_id, status, generation_source, decision_type, content, content_hash,
     scheduled_at, features, target_tweet_id, target_username, created_at, updated_at)
SELECT gen_random_uuid(), 'queued', 'original', 'reply', 'reply to ' || tweet_id,
       md5('reply to ' || tweet_id), $1::timestamptz, '{{}}', tweet_id, tweet_author,
       $1::timestamptz, $1::timestamptz FROM pick
RETURNING decision_id, target_tweet_id)
UPDATE public.reply_opportunities r SET status = 'replied', taken_at = $1::timestamptz,
       decision_id = ins.decision_id
  FROM ins WHERE r.tweet_id = ins.target_tweet_id)sql",
                            open_sql),
                now, now - std::chrono::hours{3}, now - std::chrono::hours{24});
    }

private:
    std::mt19937_64 m_rng;
    std::set<int> m_hours;
};

// The opportunities a reply decision at $1 may take: pending, found in the
// last reply_max_age_hours ($2 is now minus that), author not replied to
// since $3 (the cooldown): what plan --replies sees.
constexpr char const* open_opportunities_sql = R"sql(
SELECT r.id, r.tweet_id, r.tweet_author, r.opportunity_score
  FROM public.reply_opportunities r
 WHERE r.status = 'pending' AND r.discovered_at > $2::timestamptz
   AND r.discovered_at <= $1::timestamptz
   AND NOT EXISTS (
       SELECT 1 FROM public.content_generation_metadata_comprehensive c
        WHERE c.decision_type = 'reply'
          AND lower(c.target_username) = lower(r.tweet_author)
          AND c.created_at > $3::timestamptz))sql";

// Sums of expected follows per day: what the policy's posts and replies
// were worth, and what uniform and oracle choices would have been.
struct day_sums {
    double posts = 0, posts_uniform = 0, posts_oracle = 0;
    double replies = 0, replies_uniform = 0, replies_oracle = 0;
    int n_posts = 0, n_replies = 0;
};

double capture_of(double f, double u, double o)
{
    return o - u > 1e-12 ? (f - u) / (o - u) : 0.0;
}

json capture_json(std::vector<day_sums> const& days, int from, bool replies)
{
    double f = 0, u = 0, o = 0;
    int n = 0;
    for (std::size_t d = static_cast<std::size_t>(std::max(0, from)); d < days.size();
         ++d) {
        auto const& s = days[d];
        f += replies ? s.replies : s.posts;
        u += replies ? s.replies_uniform : s.posts_uniform;
        o += replies ? s.replies_oracle : s.posts_oracle;
        n += replies ? s.n_replies : s.n_posts;
    }
    return {{"n", n},
            {"follows_per_item", n ? f / n : 0.0},
            {"uniform", n ? u / n : 0.0},
            {"oracle", n ? o / n : 0.0},
            {"capture", capture_of(f, u, o)}};
}

// Replies: the accounts whose replies bring more than an account without an
// effect, best first, against as many of the top learned priorities.
json learned_replies(db_connection& db, world_spec const& w)
{
    double const plain = expected_reply(w, "").follows;
    std::vector<std::pair<double, std::string>> better;
    for (int a = 1; a <= w.accounts; ++a) {
        auto const name = fmt::format("account_{}", a);
        if (auto const f = expected_reply(w, name).follows; f > plain + 1e-12) {
            better.emplace_back(f, name);
        }
    }
    std::sort(better.begin(), better.end(),
              [](auto const& x, auto const& y) { return x.first > y.first; });
    std::set<std::string> best_accounts;
    json true_best = json::array();
    for (auto const& [f, name] : better) {
        best_accounts.insert(name);
        true_best.push_back(name);
    }
    auto const top_n = static_cast<int>(std::max<std::size_t>(1, best_accounts.size()));
    auto const pr = db.exec(R"sql(
        SELECT username FROM public.discovered_accounts
         ORDER BY priority_score DESC NULLS LAST, username
         LIMIT $1
        )sql",
                            top_n);
    json top = json::array();
    int hits = 0;
    for (int i = 0; i < pr.rows(); ++i) {
        top.push_back(pr.str(i, 0));
        hits += best_accounts.count(pr.str(i, 0)) ? 1 : 0;
    }
    return {{"true_best", true_best}, {"learned_top", top}, {"hits", hits}};
}

// A map's post_hour weights keyed by the hours the posts went out at: a
// value that is one of the world's times' own hours, not an hour a post goes
// out at (a late poster's), is that time's.
json posted_hours(world_spec const& w, json const& weights)
{
    auto const out_at = world_catalogue(w).at("post_hour");
    json out = json::object();
    for (auto const& [k, v] : weights.items()) {
        auto key = k;
        for (auto const& t : w.times) {
            if (k == t.substr(0, 2) &&
                std::find(out_at.begin(), out_at.end(), k) == out_at.end()) {
                key = posted_hour(w, t);
            }
        }
        out[key] = v;
    }
    return out;
}

// What the active map and the priorities learned, against the truth.
json learned(db_connection& db, world_spec const& w, double day)
{
    json out = json::object();
    auto const map = db.exec("SELECT weights::text, posteriors::text FROM "
                             "public.learning_model_weights WHERE is_active");
    json const weights = map.rows() ? json::parse(map.str(0, 0)) : json::object();
    // a dimension the map pools to its mean has no best, whatever the weights
    auto const pooled = no_spread_dimensions(
        map.rows() && !map.is_null(0, 1) ? json::parse(map.str(0, 1)) : json{});
    auto const truth = best_values(w, day);
    auto const& effects = effects_on(w, day);
    auto const catalogue = world_catalogue(w);
    for (auto const& [dim, best] : truth) {
        json d = weights.value(dim, json::object());
        if (dim == "post_hour") {
            d = posted_hours(w, d);
        }
        std::string top;
        double tw = -1;
        for (auto const& [k, v] : d.items()) {
            // replies' own value has a weight but is never drawn for a post
            if (k != "reply" && v.is_number() && v.get<double>() > tw) {
                top = k;
                tw = v.get<double>();
            }
        }
        if (pooled.count(dim) != 0) {
            top = "(all alike)";
        }
        out[dim] = {{"true_best", best},
                    {"has_effect", effects.count(dim) > 0},
                    {"learned_best", top},
                    {"weight_of_true_best", d.value(best, 0.0)},
                    // what uniform draws choose among: plan's catalogue, not
                    // the values the map has seen (nor replies' own)
                    {"values", d.empty() ? 0 : catalogue.at(dim).size()},
                    {"maps_changed", 0}};
    }
    // How many of the run's maps learned each dimension from its recent
    // posts only (build-weights' change test): false alarms in a world whose
    // effects do not change.
    auto const changed = db.exec(R"sql(
        SELECT e.key, count(*)
          FROM public.learning_model_weights, jsonb_each(posteriors->'_prior') e
         WHERE e.value ? 'changed'
         GROUP BY 1
        )sql");
    for (int i = 0; i < changed.rows(); ++i) {
        if (out.contains(changed.str(i, 0))) {
            out[changed.str(i, 0)]["maps_changed"] = changed.i64(i, 1);
        }
    }
    out["maps"] = db.exec("SELECT count(*) FROM public.learning_model_weights").i64(0, 0);
    out["replies"] = learned_replies(db, w);
    return out;
}

// Merges `extra` into `base`: its maps key by key (a key the simulator sets,
// such as plan.times, can be overridden without repeating its section), any
// other value replacing base's.
void merge_yaml(YAML::Node base, YAML::Node const& extra)
{
    if (!extra.IsMap()) {
        throw usage_error{"--config-extra: not a map of config sections"};
    }
    for (auto const& kv : extra) {
        auto const key = kv.first.as<std::string>();
        if (kv.second.IsMap() && base[key] && base[key].IsMap()) {
            merge_yaml(base[key], kv.second);
        } else {
            base[key] = kv.second;
        }
    }
}

// A reply decision: when, the expected follows of the reply taken and of the
// one opportunity score alone would have taken.
struct reply_truth {
    timestamp at;
    double taken = 0;
    double baseline = 0;
};

// The replies' truth over the decisions whose replies validate weighs
// (posted as decided); none when there are none.
std::optional<json> replies_truth(config const& cfg, timestamp now,
                                  std::vector<reply_truth> const& replies)
{
    auto const from = now - fractional_days(cfg.replies.window_days);
    auto const to = now - fractional_hours(cfg.replies.min_age_hours);
    double taken = 0, baseline = 0;
    int k = 0;
    for (auto const& r : replies) {
        if (r.at > from && r.at <= to) {
            taken += r.taken;
            baseline += r.baseline;
            ++k;
        }
    }
    if (k == 0) {
        return std::nullopt;
    }
    return json{{"replies", k},
                {"learned", taken / k},
                {"opportunity", baseline / k},
                {"lift", (taken - baseline) / k}};
}

// A what-if question drawn from the seed: one dimension of the catalogue
// drawn as one of its values, so that over seeds the true lifts over the
// map's policy fall on both sides of zero (and some values were drawn too
// seldom to say).
what_if_policy seeded_what_if(std::map<std::string, std::vector<std::string>> const& c,
                              std::uint64_t seed)
{
    auto dim = c.begin();
    std::advance(dim, static_cast<std::ptrdiff_t>(seed % c.size()));
    auto const& values = dim->second;
    return {{dim->first, {values[(seed / c.size()) % values.size()]}}};
}

// What validate estimates (issue 15), and the truth: each policy's expected
// follows a post over the same logged posts, from the world's effects. As
// validate weighs them, uniform and the map's policy change the catalogue's
// dimensions and keep post_hour and the post's day as logged; the map's
// policy is each half of the posts under the map learned from the other
// half, as validate values it ("map_active": the active map itself); and
// the seeded what-if, the map's policy with its dimension changed.
json policy_value(db_connection& db, config const& cfg, world_spec const& w,
                  timestamp start, timestamp now, std::uint64_t seed,
                  std::vector<reply_truth> const& replies)
{
    auto const catalogue = plan_catalogue(cfg.plan);
    auto const what_if = seeded_what_if(catalogue, seed);
    auto const report = policy_report_of(db, cfg, now, seed, what_if);
    auto const posts = read_logged_posts(db, cfg, now).items;
    auto const [posteriors, weights, cross_fit] = read_active_map(db);
    // what validate values (each half under the map learned from the other),
    // and the active map itself
    auto const rule = draw_rule_of(cfg);
    auto const map = map_policies_of(catalogue, posteriors, cross_fit, rule);
    auto const active = map_policies_of(catalogue, posteriors, nullptr, rule);
    std::map<std::string, dimension_policy> uniform;
    for (auto const& [dim, candidates] : catalogue) {
        uniform[dim] = uniform_policy(candidates);
    }
    double logged = 0, u = 0, m = 0, a = 0, wi = 0;
    int n = 0;
    for (auto const& p : posts) {
        if (p.draws.empty()) {
            continue;
        }
        double const day = days_between(start, p.posted_at);
        attributes attrs;
        for (auto const& [dim, d] : p.draws) {
            attrs[dim] = d.value;
        }
        double const f = expected_post(w, attrs, day).follows;
        auto const value_of = [&](std::map<std::string, dimension_policy> const& pi) {
            double v = f;
            for (auto const& [dim, probs] : pi) {
                auto const it = attrs.find(dim);
                if (it == attrs.end()) {
                    continue;
                }
                double mixed = 0;
                for (auto const& [value, prob] : probs) {
                    mixed += prob * follows_factor(w, dim, value, day);
                }
                v *= mixed / follows_factor(w, dim, it->second, day);
            }
            return v;
        };
        logged += f;
        u += value_of(uniform);
        m += value_of(map.of_fold[fold_of(p)]);
        a += value_of(active.of_fold[0]);
        auto asked = map.of_fold[fold_of(p)];
        for (auto const& [dim, values] : what_if) {
            asked[dim] = uniform_policy(values);
        }
        wi += value_of(asked);
        ++n;
    }
    json truth = json::object();
    if (n > 0) {
        truth = {{"posts", n},
                 {"logged", logged / n},
                 {"uniform", u / n},
                 {"map", m / n},
                 {"map_active", a / n},
                 {"map_cross_fitted", map.cross_fitted},
                 {"lift", (m - u) / n},
                 {"what_if",
                  {{"policy", what_if}, {"value", wi / n}, {"lift", (wi - m) / n}}}};
    }
    if (auto r = replies_truth(cfg, now, replies)) {
        truth["replies"] = std::move(*r);
    }
    return {{"estimate", policy_report_json(report)}, {"truth", truth}};
}

std::string weight_in_words(std::string const& dim, double w, std::size_t values)
{
    if (values == 0) {
        return "no map yet";
    }
    if (dim == "post_hour") {
        // plan draws a day's set of times, not one time a post
        return fmt::format("P(best) {:.0f} % (uniform would be {:.0f} %); a day's posts "
                           "go to its likely best times",
                           100 * w, 100.0 / static_cast<double>(values));
    }
    return fmt::format("plan draws it {:.0f} % of the time (uniform would be {:.0f} %)",
                       100 * w, 100.0 / static_cast<double>(values));
}

// Writes the tools' config for a run to `path`: the fake X API, the world's
// times and posts a day (which times get a post is learned: post_hour), and
// --config-extra merged in key by key.
void write_sim_config(options const& o, world_spec const& world,
                      std::string const& api_url, std::string const& path)
{
    YAML::Node c;
    c["x_api"]["base_url"] = api_url;
    c["x_api"]["timeout_ms"] = 5000;
    c["x_api"]["retries"] = 1;
    c["x_api"]["backoff_ms"] = 10;
    c["plan"]["times"] = world.times;
    c["plan"]["posts_per_day"] = world.posts_per_day;
    c["plan"]["min_gap_minutes"] = sim_min_gap_minutes;
    if (o.config_extra) {
        YAML::Node extra;
        try {
            extra = YAML::LoadFile(*o.config_extra);
        } catch (YAML::Exception const& e) {
            throw usage_error{fmt::format("--config-extra: cannot read '{}': {}",
                                          *o.config_extra, e.what())};
        }
        merge_yaml(c, extra);
    }
    std::ofstream out{path};
    out << c << "\n";
}

// The config the in-process jobs run with: the file's, and for the original
// bot's policy its way of learning (by primary_objective_score, with a
// fixed 10 % exploration floor).
config sim_config(options const& o, std::string const& path)
{
    auto cfg = load_config(path);
    if (o.policy == "original") {
        cfg.weights.epsilon_decay_posts = 0;
        for (auto& [k, v] : cfg.weights.target) {
            v = k == "primary_objective_score" ? 1.0 : 0.0;
        }
    }
    return cfg;
}

// The harvester: the hour's reply opportunities (tick n), by authors drawn
// from the world's accounts.
void harvest(db_connection& db, world_spec const& world, std::uint64_t seed, int n,
             timestamp now)
{
    json found = json::array();
    for (int g = 0; g < world.opportunities_per_hour; ++g) {
        // the draws keyed by name, the tweet an X post id (plan replies to
        // nothing else)
        auto const id = fmt::format("opp_{}_{}", n, g);
        auto const a = 1 + static_cast<int>(hash_uniform(seed, id, 'a') * world.accounts);
        found.push_back({{"tweet_id", std::to_string(8000000000LL + 1000LL * n + g)},
                         {"key", id},
                         {"author", fmt::format("account_{}", a)},
                         {"score", 0.3 + 0.6 * hash_uniform(seed, id, 's')}});
    }
    db.exec(R"sql(
        INSERT INTO public.reply_opportunities
               (tweet_id, tweet_author, tweet_content, opportunity_score, discovered_at)
        SELECT x.tweet_id, x.author, 'Take ' || x.key || ': dashboards lie',
               x.score, $2::timestamptz
          FROM jsonb_to_recordset($1::jsonb)
               AS x(tweet_id text, key text, author text, score float8)
            ON CONFLICT DO NOTHING
        )sql",
            found.dump(), now);
}

// What the run was worth, as it goes: each day's sums, each reply decision
// against opportunity score alone, and the scrape runs rate limited.
struct tally {
    std::vector<day_sums> days;
    std::vector<reply_truth> replies;
    std::int64_t rate_limited = 0;
};

// One tick of the simulated loop, its jobs as cron would run them: plan
// hourly, replies in the first replies_per_day local hours from 08:00, the poster,
// scrape-metrics every tick (or --every), learn-replies every 90 min and
// build-weights every 6 h (or --every).
class cron_loop {
public:
    cron_loop(options const& o, world_spec const& world, db_connection& db, runner& run,
              x_api_server& api, timestamp start, std::filesystem::path metrics_file)
        : m_o(o), m_world(world), m_db(db), m_run(run), m_api(api), m_start(start),
          m_metrics_file(std::move(metrics_file)), m_original(world, o.seed),
          m_max_age(fractional_hours(run.cfg().plan.reply_max_age_hours)),
          m_cooldown(fractional_hours(run.cfg().plan.reply_author_cooldown_hours))
    {
        m_tally.days.resize(static_cast<std::size_t>(o.days) + 1);
    }

    // Tick n, at `now`.
    void tick(int n, timestamp now)
    {
        m_api.set_now(std::chrono::duration<double>(now - m_start).count() / 86400);
        auto const minute = static_cast<int>(
            std::chrono::duration_cast<std::chrono::minutes>(now - m_start).count());
        auto const day = static_cast<std::size_t>(minute / 1440);
        auto const seed = m_o.seed * 100003 + static_cast<std::uint64_t>(n);
        if (due(minute, 60, m_o.tick_minutes) && m_world.opportunities_per_hour > 0) {
            harvest(m_db, m_world, m_o.seed, n, now);
        }
        // a window to the run's end holds its last tick too: validate then
        // sees the loop as an operator would before cron is back
        auto const at = minute / 1440.0;
        auto const up_at = m_o.down_from + m_o.down_days;
        if (m_o.down_days > 0 && at >= m_o.down_from &&
            (at < up_at || up_at >= m_o.days)) {
            // The cron host is down: the poster publishes what was queued.
            m_api.publish(publish(m_db, now, m_start, m_run.cfg().plan.timezone,
                                  m_world.poster_every_minutes));
            return;
        }
        if (due(minute, 60, m_o.tick_minutes)) {
            plan_posts(minute, now, seed);
            if ((local_hour(now) - 8 + 24) % 24 < m_world.replies_per_day &&
                day < m_tally.days.size()) {
                plan_reply(now, seed, m_tally.days[day]);
            }
        }
        m_api.publish(publish(m_db, now, m_start, m_run.cfg().plan.timezone,
                              m_world.poster_every_minutes));
        scrape(minute, now, seed);
        if (due(minute, m_o.every.at("learn-replies"), m_o.tick_minutes)) {
            m_run.job("learn-replies", now, seed,
                      [](run_context& r) { run_learn_replies(r); });
        }
        if (due(minute, m_o.every.at("build-weights"), m_o.tick_minutes)) {
            m_run.job("build-weights", now, seed,
                      [](run_context& r) { run_build_weights(r); });
        }
    }

    // The posts' worth, each against uniform and oracle posts that day; then
    // the tally.
    tally const& finish()
    {
        auto& days = m_tally.days;
        for (auto const& p : m_api.posts()) {
            if (p.reply) {
                continue;
            }
            auto const d = static_cast<std::size_t>(std::max(0.0, p.day));
            auto& s = days[std::min(d, days.size() - 1)];
            s.posts += expected_post(m_world, p.attrs, p.day).follows;
            s.posts_uniform += uniform_follows(m_world, p.day);
            s.posts_oracle += oracle_follows(m_world, p.day);
            ++s.n_posts;
        }
        return m_tally;
    }

private:
    // The account's hour (plan.timezone), as the world's times are: not the
    // hours since --start, which need not be midnight UTC.
    int local_hour(timestamp now)
    {
        return static_cast<int>(
            m_db.exec("SELECT extract(hour FROM $1::timestamptz AT TIME ZONE $2)::int",
                      now, m_run.cfg().plan.timezone)
                .i64(0, 0));
    }

    void plan_posts(int minute, timestamp now, std::uint64_t seed)
    {
        if (m_o.policy == "original") {
            m_original.plan_post(m_db, now, m_run.cfg().plan.timezone);
        } else if (due(minute, m_o.every.at("plan"), m_o.tick_minutes)) {
            m_run.job("plan", now, seed, [](run_context& r) { run_plan(r, {}); });
        }
    }

    // A reply decision, and what it could take: the mean, best and
    // opportunity score's choice among the open opportunities.
    void plan_reply(timestamp now, std::uint64_t seed, day_sums& s)
    {
        auto const open =
            m_db.exec(open_opportunities_sql, now, now - m_max_age, now - m_cooldown);
        if (open.rows() == 0) {
            return;
        }
        double sum = 0, top = 0, baseline = 0, best_opportunity = -1;
        for (int i = 0; i < open.rows(); ++i) {
            auto const f = expected_reply(m_world, open.str(i, 2)).follows;
            sum += f;
            top = std::max(top, f);
            if (open.f64(i, 3) > best_opportunity) {
                best_opportunity = open.f64(i, 3);
                baseline = f; // opportunity score alone takes it
            }
        }
        if (m_o.policy == "original") {
            m_original.plan_reply(m_db, now, open_opportunities_sql);
        } else {
            m_run.job("plan-replies", now, seed + 1,
                      [](run_context& r) { run_plan(r, plan_options{1}); });
        }
        auto const took = m_db.exec(R"sql(
            SELECT lower(target_username)
              FROM public.content_generation_metadata_comprehensive
             WHERE decision_type = 'reply' AND created_at = $1::timestamptz
            )sql",
                                    now);
        if (took.rows() == 0) {
            return;
        }
        auto const follows = expected_reply(m_world, took.str(0, 0)).follows;
        m_tally.replies.push_back({now, follows, baseline});
        s.replies += follows;
        s.replies_uniform += sum / open.rows();
        s.replies_oracle += top;
        ++s.n_replies;
    }

    // Whether the metrics file's export is down at `minute` (--export-down;
    // a window to the run's end holds its last tick, as --down's).
    bool export_down(int minute) const
    {
        auto const at = minute / 1440.0;
        auto const up_at = m_o.export_down_from + m_o.export_down_days;
        return m_o.export_down_days > 0 && at >= m_o.export_down_from &&
               (at < up_at || up_at >= m_o.days);
    }

    // A rate-limited run exits 75 and keeps what it wrote; the next tick
    // goes on.
    void scrape(int minute, timestamp now, std::uint64_t seed)
    {
        auto const every = m_o.every.count("scrape-metrics")
                               ? m_o.every.at("scrape-metrics")
                               : m_o.tick_minutes;
        if (!due(minute, every, m_o.tick_minutes)) {
            return;
        }
        auto const code = m_run.job("scrape-metrics", now, seed,
                                    [&](run_context& r) {
                                        if (m_o.metrics == "file") {
                                            if (!export_down(minute)) {
                                                m_api.write_metrics_file(m_metrics_file);
                                            }
                                            scrape_options so;
                                            so.source = "file";
                                            so.input = m_metrics_file.string();
                                            run_scrape_metrics(r, so);
                                        } else {
                                            run_scrape_metrics(r, {});
                                        }
                                    },
                                    {exit_code::ok, exit_code::temporary});
        if (code == exit_code::temporary) {
            ++m_tally.rate_limited;
        }
    }

    options const& m_o;
    world_spec const& m_world;
    db_connection& m_db;
    runner& m_run;
    x_api_server& m_api;
    timestamp m_start;
    std::filesystem::path m_metrics_file;
    original_policy m_original;
    std::chrono::microseconds m_max_age;
    std::chrono::microseconds m_cooldown;
    tally m_tally;
};

// The run's score as JSON: what was learned against the truth, the capture
// of the oracle's gain, the counts, and validate's estimates against the
// truth.
json result_json(options const& o, world_spec const& world, db_connection& db,
                 runner const& run, x_api_server const& api, tally const& t,
                 timestamp start, timestamp end)
{
    json result = learned(db, world, static_cast<double>(o.days));
    result["world"] = world.name;
    result["policy"] = o.policy;
    result["metrics"] = o.metrics;
    result["days"] = o.days;
    result["seed"] = o.seed;
    result["capture"] = capture_json(t.days, 0, false);
    result["capture_last_14_days"] = capture_json(t.days, o.days - 14, false);
    result["replies_capture"] = capture_json(t.days, 0, true);
    json daily = json::array();
    for (auto const& s : t.days) {
        daily.push_back({s.posts, s.posts_uniform, s.posts_oracle, s.replies,
                         s.replies_uniform, s.replies_oracle});
    }
    result["daily_follows"] = daily; // posts, uniform, oracle; replies, uniform, oracle
    auto const posted = db.exec(R"sql(
        SELECT count(*), count(*) FILTER (WHERE decision_type = 'reply')
          FROM public.content_generation_metadata_comprehensive
         WHERE status = 'posted'
        )sql");
    result["posts"] = posted.i64(0, 0); // replies included
    result["replies_posted"] = posted.i64(0, 1);
    result["outcomes_with_v2"] = db.exec("SELECT count(*) FROM public.outcomes WHERE "
                                         "primary_objective_score IS NOT NULL")
                                     .i64(0, 0);
    result["followers_end"] = api.followers();
    result["rate_limited_runs"] = t.rate_limited;
    result["policy_value"] =
        policy_value(db, run.cfg(), world, start, end, o.seed, t.replies);
    return result;
}

// Each dimension's true and learned best, and the true best's weight in
// words: in a column of its own, or where the terminal is narrower than
// that, on a line of its own under the dimension.
void print_dimensions(json const& result, std::size_t columns)
{
    auto const row = [](std::string const& dim, std::string const& truth,
                        std::string const& learned, std::string const& verdict) {
        return fmt::format("  {:<15} {:<22} {:<22} {:<6} ", dim, truth, learned, verdict);
    };
    constexpr std::size_t narrowest = 30; // the words' column, at its narrowest
    auto const apart = columns > 0 && row("", "", "", "").size() + narrowest > columns;
    auto const header = row("dimension", "true best", "learned best", "");
    std::cout << (apart ? trim_end(header) : header + "the true best's weight") << '\n';
    for (auto const& [dim, d] : result.items()) {
        if (!d.is_object() || !d.contains("true_best") || dim == "replies") {
            continue;
        }
        bool const effect = d["has_effect"].get<bool>();
        auto const right = d["true_best"] == d["learned_best"];
        auto const line =
            row(dim, effect ? d["true_best"].get<std::string>() : "(no effect)",
                d["learned_best"].get<std::string>(),
                !effect ? ""
                : right ? "right"
                        : "WRONG");
        auto const words =
            effect ? weight_in_words(dim, d["weight_of_true_best"].get<double>(),
                                     d["values"].get<std::size_t>())
                   : std::string{"any value is as good here"};
        if (!apart) {
            std::cout << line << hanging_lines(words, line.size(), columns) << '\n';
            continue;
        }
        std::cout << trim_end(line) << '\n';
        std::cout << report_line("      " + words, columns);
    }
}

// The score in words, for a person at a terminal.
void print_report(options const& o, world_spec const& world, json const& result)
{
    auto const columns = output_columns();
    // each line wrapped at the terminal's width (0: none)
    auto const print = [&](std::string const& text) {
        std::cout << report_line(text, columns);
    };
    auto const posts = result["posts"].get<long>();
    auto const replies = result["replies_posted"].get<long>();
    print(fmt::format(
        "world '{}' ({}), policy {}, after {} simulated days: {} posts and {} replies, "
        "{} outcomes with v2",
        world.name, world.description, o.policy, o.days, posts - replies, replies,
        result["outcomes_with_v2"].get<long>()));
    print_dimensions(result, columns);
    auto const names = [](json const& list) {
        std::vector<std::string> v;
        for (auto const& n : list) {
            v.push_back(n.get<std::string>());
        }
        return v.empty() ? std::string{"none"} : fmt::format("{}", fmt::join(v, ", "));
    };
    print(fmt::format(
        "  replies: the accounts that answer best, best first: {}; the learned top {}: "
        "{}",
        names(result["replies"]["true_best"]), result["replies"]["learned_top"].size(),
        names(result["replies"]["learned_top"])));
    auto const line = [&](char const* what, json const& c) {
        print(fmt::format(
            "  {}: {:.2f} expected follows each (uniform {:.2f}, oracle {:.2f}): "
            "{:.0f} % of the oracle's gain over uniform",
            what, c["follows_per_item"].get<double>(), c["uniform"].get<double>(),
            c["oracle"].get<double>(),
            // + 0.0: a capture that rounds to zero from below is "0 %", not "-0 %"
            std::round(100 * c["capture"].get<double>()) + 0.0));
    };
    line("posts, whole run", result["capture"]);
    if (o.days > 14) { // else the same line again
        line("posts, last 14 days", result["capture_last_14_days"]);
    }
    line("replies", result["replies_capture"]);
    auto const& pv = result["policy_value"];
    auto const& lift = pv["estimate"]["lift_map_over_uniform_follows"];
    if (lift.is_object() && !pv["truth"].empty()) {
        print(fmt::format(
            "  validate's lift of the map's policy over uniform: {:+.3f} follows a post "
            "[{:+.3f}, {:+.3f}]; true {:+.3f}",
            at_3dp(lift["value"].get<double>()), at_3dp(lift["lo"].get<double>()),
            at_3dp(lift["hi"].get<double>()), at_3dp(pv["truth"]["lift"].get<double>())));
    }
    auto const& rlift =
        pv["estimate"]["replies"]["lift_learned_over_opportunity_follows"];
    if (rlift.is_object() && pv["truth"].contains("replies")) {
        print(fmt::format(
            "  validate's lift of the learned priorities over opportunity score alone: "
            "{:+.3f} follows a reply [{:+.3f}, {:+.3f}]; true {:+.3f}",
            at_3dp(rlift["value"].get<double>()), at_3dp(rlift["lo"].get<double>()),
            at_3dp(rlift["hi"].get<double>()),
            at_3dp(pv["truth"]["replies"]["lift"].get<double>())));
    }
    auto const rate_limited = result["rate_limited_runs"].get<std::int64_t>();
    if (rate_limited > 0) {
        print(fmt::format("  {} scrape runs were rate limited (exit 75) and the "
                          "next ones caught up",
                          rate_limited));
    }
}

// The truth is scored against this run's posts: another run's (or an
// account's real ones) would be counted as this world's, and its scores
// would be nonsense. Refused before migrate writes anything.
// How many items the loop's table holds (0 before migrate made it).
std::int64_t items_played(db_connection& db)
{
    if (!db.exec("SELECT to_regclass('public.content_generation_metadata_comprehensive') "
                 "IS NOT NULL")
             .boolean(0, 0)) {
        return 0;
    }
    return db
        .exec("SELECT count(*) FROM public.content_generation_metadata_comprehensive")
        .i64(0, 0);
}

void refuse_used_database(db_connection& db)
{
    if (auto const items = items_played(db); items > 0) {
        throw usage_error{fmt::format(
            "the database already holds {} items: xloop-sim plays a world on a fresh "
            "one (createdb NAME, then --db dbname=NAME)",
            items)};
    }
}

// --rescore: the finished run's estimates and truth again, from its
// database alone; nothing is written.
int rescore(options const& o, world_spec const& world, db_connection& db,
            std::string const& config_file, timestamp start)
{
    if (items_played(db) == 0) {
        throw usage_error{"--rescore: the database holds no run to value again (play one "
                          "first, with the same --world, --seed and --days)"};
    }
    auto const end = start + std::chrono::days{o.days};
    json result{{"world", world.name},
                {"policy", o.policy},
                {"metrics", o.metrics},
                {"days", o.days},
                {"seed", o.seed}};
    result["policy_value"] =
        policy_value(db, sim_config(o, config_file), world, start, end, o.seed, {});
    std::cout << result.dump(2) << '\n';
    return 0;
}

int simulate(options const& o)
{
    auto const world = load_world(o.world);
    auto const conninfo = resolve_conninfo(o.db);
    db_connection db{conninfo, "xloop-sim"};
    auto const start = parse_timestamp(o.start);
    if (!start) {
        throw usage_error{fmt::format("--start: not an ISO 8601 time: '{}'", o.start)};
    }
    if (o.policy != "xloop" && o.policy != "original") {
        throw usage_error{
            fmt::format("--policy: '{}' is neither xloop nor original", o.policy)};
    }
    ::setenv("X_BEARER_TOKEN", "sim-token", 1);
    x_api_server api{world, o.seed, *start, o.rate_limit_every, o.followers_limit};
    temp_dir const scratch{"xloop-sim"}; // the run's config and metrics file
    std::filesystem::path const dir = scratch.path();
    auto const config_file = (dir / "xloop.yaml").string();
    write_sim_config(o, world, api.base_url(), config_file);
    if (o.rescore) {
        return rescore(o, world, db, config_file, *start);
    }
    refuse_used_database(db);
    runner run{o, db, config_file, sim_config(o, config_file)};
    run.tool("migrate", {}, *start); // a no-op on a migrated database

    db.exec(R"sql(
        INSERT INTO public.discovered_accounts (username, follower_count)
        SELECT 'account_' || a, 1000 * a FROM generate_series(1, $1::int) a
         WHERE NOT EXISTS (SELECT 1 FROM public.discovered_accounts d
                            WHERE lower(d.username) = 'account_' || a)
        )sql",
            world.accounts);

    cron_loop simulated{o, world, db, run, api, *start, dir / "metrics.jsonl"};
    auto const end = *start + std::chrono::days{o.days};
    int n = 0;
    for (auto now = *start; now <= end;
         now += std::chrono::minutes{o.tick_minutes}, ++n) {
        simulated.tick(n, now);
    }
    // Seeded: its bootstrap intervals are then the same each run of a seed.
    std::vector<std::string> validate_args{"--seed", std::to_string(o.seed)};
    if (o.html) {
        validate_args.insert(validate_args.end(), {"--html", *o.html});
    }
    auto const v = run.tool("validate", validate_args, end, {0, 1}); // READY or not
    auto result = result_json(o, world, db, run, api, simulated.finish(), *start, end);
    result["validate_exit"] = v.exit_code;
    if (o.json_out) {
        std::cout << result.dump(2) << '\n';
        return 0;
    }
    print_report(o, world, result);
    std::cout << '\n' << v.out;
    return 0;
}

// --every's JOB=MINUTES into o.every (which holds the known jobs' defaults),
// and --down's and --export-down's DAY:DAYS.
void parse_schedule(options& o)
{
    for (auto const& e : o.every_text) {
        auto const eq = e.find('=');
        auto const job = e.substr(0, eq);
        int minutes = 0;
        if (eq == std::string::npos || (job != "scrape-metrics" && !o.every.count(job)) ||
            std::sscanf(e.c_str() + eq + 1, "%d", &minutes) != 1 || minutes < 20 ||
            minutes > 1440) {
            throw CLI::ValidationError{
                "--every",
                fmt::format("'{}': expected JOB=MINUTES, JOB one of scrape-metrics, "
                            "plan, learn-replies, build-weights; 20 to 1440 minutes",
                            e)};
        }
        o.every[job] = minutes;
    }
    auto window = [&o](std::string const& option, std::string const& text, double& from,
                       double& days) {
        char end = 0;
        if (std::sscanf(text.c_str(), "%lf:%lf%c", &from, &days, &end) != 2 ||
            !(from >= 0) || !(days > 0) || from + days > o.days) {
            throw CLI::ValidationError{
                option, fmt::format("'{}': expected DAY:DAYS within the --days {} run",
                                    text, o.days)};
        }
    };
    if (o.down_text) {
        window("--down", *o.down_text, o.down_from, o.down_days);
    }
    if (o.export_down_text) {
        if (o.metrics != "file") {
            throw CLI::ValidationError{"--export-down", "needs --metrics file"};
        }
        window("--export-down", *o.export_down_text, o.export_down_from,
               o.export_down_days);
    }
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App cli{
        "xloop-sim: runs the loop against a simulated world (a world file: hidden "
        "effects, reply opportunities, a fake X API on 127.0.0.1) and scores what it "
        "learned against the truth. Migrates the database first (a scratch one: it "
        "writes the loop's tables)."};
    options o;
    cli.add_option("--db", o.db, "Connection string (else DATABASE_URL, else PG*)");
    cli.add_option("--days", o.days, "Simulated days")
        ->check(CLI::Range(1, 365).description(""))
        ->type_name("INT in [1 - 365]");
    cli.add_option("--start", o.start, "Simulated start time (ISO 8601)");
    cli.add_option("--seed", o.seed, "Seed of the world and of the tools' draws");
    cli.add_option("--world", o.world, "World file (sim/worlds/*.yaml)")
        ->capture_default_str();
    cli.add_option("--policy", o.policy,
                   "Who plans: xloop, or the original bot's policy (for comparison)")
        ->capture_default_str();
    cli.add_option("--metrics", o.metrics,
                   "Where scrape-metrics reads: the fake X API (api: no follows per "
                   "post, attributed from follower counts), or a JSON Lines file as "
                   "from X's analytics export (file: follows per post)")
        ->capture_default_str()
        ->check(CLI::IsMember({"api", "file"}));
    cli.add_option("--html", o.html, "Write validate's HTML report here at the end");
    cli.add_flag("--json", o.json_out, "Print the score as JSON");
    cli.add_flag("--rescore", o.rescore,
                 "Value a finished run's database again, as JSON, without playing it: "
                 "validate's estimates against the truth (the replies' truth needs the "
                 "run's live opportunities and is left out); give the run's --world, "
                 "--seed, --days, --start, --metrics and --every. Tries a change to the "
                 "estimators on kept runs in seconds instead of replaying them");
    cli.add_option("--config-extra", o.config_extra,
                   "A YAML file merged into the tools' config key by key (e.g. weights:, "
                   "or plan.posterior_scale beside the plan keys the simulator sets)")
        ->type_name("FILE");
    cli.add_option("--rate-limit-every", o.rate_limit_every,
                   "Answer every Nth metrics request with HTTP 429 (0: never)")
        ->check(CLI::Range(0, 1000000).description(""))
        ->type_name("INT in [0 - 1000000]");
    cli.add_option("--followers-limit", o.followers_limit,
                   "Answer the follower count (/2/users/me) with HTTP 429 past N "
                   "requests in 24 h, as X's Free tier does at 25 (0: never)")
        ->check(CLI::Range(0, 1000000).description(""))
        ->type_name("INT in [0 - 1000000]");
    cli.add_option("--tick-minutes", o.tick_minutes,
                   "Simulated minutes between ticks: scrape-metrics runs every tick, "
                   "the other jobs on their cron interval (60 makes long runs faster)")
        ->capture_default_str()
        ->check(CLI::IsMember({20, 30, 60}));
    cli.add_option("--every", o.every_text,
                   "JOB=MINUTES: run a job at another cron interval (scrape-metrics: "
                   "every tick; plan 60, learn-replies 90, build-weights 360); the "
                   "interval is rounded up to whole ticks");
    cli.add_option("--down", o.down_text,
                   "DAY:DAYS: xloop's cron host is down from day DAY (since the start; "
                   "fractions allowed) for DAYS days: no tool runs, the poster publishes "
                   "what is queued and the world goes on")
        ->type_name("DAY:DAYS");
    cli.add_option("--export-down", o.export_down_text,
                   "DAY:DAYS: with --metrics file, the export that writes the file stops "
                   "from day DAY for DAYS days: scrape-metrics reads the file as it "
                   "was left")
        ->type_name("DAY:DAYS");
    try {
        cli.parse(argc, argv);
        parse_schedule(o);
    } catch (CLI::ParseError const& e) {
        return cli.exit(e) == 0 ? 0 : static_cast<int>(exit_code::usage);
    }
    log::configure("xloop-sim", log::format::text, log::level::warn);
    try {
        return simulate(o);
    } catch (std::exception const& e) {
        log::error("{}", e.what());
        return static_cast<int>(exit_code_for(e));
    }
}
