// xloop-sim: plays the outside world around the loop for simulated days, so
// the whole loop runs in seconds and its learning can be scored against a
// hidden truth (DESIGN §8). It posts what is queued, harvests reply
// opportunities, serves a fake X API on 127.0.0.1 whose metrics come from
// hidden effects of slot, hook, hour and reply target, and runs the six tools
// on their cron cadence with XLOOP_NOW moving forward. Deterministic for a
// given --seed. Not installed: a development and demo tool.

#include "db.hpp"
#include "error.hpp"
#include "log.hpp"
#include "plan_job.hpp"
#include "subprocess.hpp"
#include "timestamp.hpp"

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib> // mkdtemp
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <type_traits>

using nlohmann::json;
using namespace xloop;

namespace {

// ---- the hidden truth ------------------------------------------------------

// Engagement rate of a content slot (how_to is the best), of a reply.
std::map<std::string, double> const slot_er{
    {"how_to", 0.060},   {"data_story", 0.034}, {"myth_busting", 0.030},
    {"tool_tip", 0.028}, {"hot_take", 0.024},   {"case_study", 0.020},
    {"reply", 0.020}};
// Followers per 1000 impressions of a slot.
std::map<std::string, double> const slot_follows{
    {"how_to", 14},  {"data_story", 6}, {"myth_busting", 4}, {"tool_tip", 4},
    {"hot_take", 3}, {"case_study", 3}, {"reply", 3}};
// Multipliers of a hook (on ER and follows) and of the UTC hour posted (on
// impressions); reply targets that answer well.
std::map<std::string, double> const hook_effect{{"question", 1.35},   {"statistic", 1.1},
                                                {"story", 1.0},       {"reveal", 1.0},
                                                {"contrarian", 0.95}, {"statement", 0.8}};
std::map<int, double> const hour_effect{{8, 0.8},  {10, 1.0}, {12, 0.9}, {14, 1.0},
                                        {16, 1.1}, {18, 1.5}, {20, 1.2}, {22, 0.9}};
std::set<std::string> const good_accounts{"account_3", "account_7"};
constexpr int accounts = 12;

double lookup(std::map<std::string, double> const& m, std::string const& k, double d)
{
    auto const it = m.find(k);
    return it == m.end() ? d : it->second;
}

// A stable hash (FNV-1a) of the seed and a tweet id: the noise of a post.
double noise(std::uint64_t seed, std::string const& id, char salt)
{
    std::uint64_t h = 1469598103934665603ULL ^ seed;
    for (char c : id + salt) {
        h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    return static_cast<double>(h % 1000000) / 1000000.0; // [0, 1)
}

struct post {
    std::string tweet_id, slot, hook, type, target;
    double age_hours = 0;
    int hour = 0;
};

struct truth {
    double impressions_final, er, follows_total;
};

truth true_effects(std::uint64_t seed, post const& p)
{
    bool const reply = p.type == "reply";
    double base = reply ? 300 : 900;
    auto const h = hour_effect.find(p.hour);
    base *= reply || h == hour_effect.end() ? 1.0 : h->second;
    double const imp = base * (0.8 + 0.4 * noise(seed, p.tweet_id, 'i'));
    double er = lookup(slot_er, reply ? "reply" : p.slot, 0.02) *
                lookup(hook_effect, p.hook, 1.0) *
                (0.85 + 0.3 * noise(seed, p.tweet_id, 'e'));
    double follows = imp / 1000 * lookup(slot_follows, reply ? "reply" : p.slot, 3) *
                     lookup(hook_effect, p.hook, 1.0);
    if (reply && good_accounts.count(p.target)) {
        er *= 2.5;
        follows *= 3;
    }
    return {imp, er, follows};
}

// Impressions saturate over the first day; counts follow them.
json tweet_json(std::uint64_t seed, post const& p)
{
    auto const t = true_effects(seed, p);
    auto const imp = std::llround(t.impressions_final * (1 - std::exp(-p.age_hours / 8)));
    auto const eng = static_cast<double>(imp) * t.er;
    return {
        {"id", p.tweet_id},
        {"public_metrics",
         {{"impression_count", imp},
          {"like_count", std::llround(eng * 0.7)},
          {"retweet_count", std::llround(eng * 0.2)},
          {"reply_count", std::llround(eng * 0.1)},
          {"quote_count", 0},
          {"bookmark_count", std::llround(eng * 0.05)}}},
        {"non_public_metrics",
         {{"impression_count", imp}, {"user_profile_clicks", std::llround(eng * 0.3)}}}};
}

// ---- the world -------------------------------------------------------------

class world {
public:
    // Every `rate_limit_every`-th /2/tweets request is answered 429 (0: none).
    world(std::string conninfo, std::uint64_t seed, int rate_limit_every)
        : m_db(conninfo, "xloop-sim-api"), m_seed(seed),
          m_rate_limit_every(rate_limit_every)
    {
        m_server.Get("/2/users/me",
                     [this](httplib::Request const&, httplib::Response& res) {
                         std::lock_guard lock{m_mutex};
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
            for (auto const& p : posts("c.tweet_id = ANY(string_to_array($2, ','))",
                                       req.get_param_value("ids"))) {
                data.push_back(tweet_json(m_seed, p));
            }
            res.set_content(json{{"data", data}}.dump(), "application/json");
        });
        m_port = m_server.bind_to_any_port("127.0.0.1");
        m_thread = std::thread{[this] { m_server.listen_after_bind(); }};
    }
    ~world()
    {
        m_server.stop();
        m_thread.join();
    }
    world(world const&) = delete;
    world& operator=(world const&) = delete;

    std::string base_url() const { return fmt::format("http://127.0.0.1:{}", m_port); }
    void set_now(timestamp t) { m_now = t.time_since_epoch().count(); }

private:
    timestamp now() const { return timestamp{std::chrono::microseconds{m_now.load()}}; }

    // The posted decisions matching `where` ($1 is now, $2 the argument).
    std::vector<post> posts(char const* where, std::string const& arg = {})
    {
        auto const r = m_db.exec(
            fmt::format("SELECT c.tweet_id, coalesce(c.content_slot, ''), "
                        "coalesce(c.hook_type, ''), coalesce(c.decision_type, ''), "
                        "coalesce(lower(c.target_username), ''), "
                        "extract(epoch FROM $1::timestamptz - c.posted_at) / 3600, "
                        "extract(hour FROM c.posted_at AT TIME ZONE 'UTC')::int "
                        "FROM public.content_generation_metadata_comprehensive c "
                        "WHERE c.status = 'posted' AND c.tweet_id IS NOT NULL "
                        "AND c.posted_at <= $1::timestamptz AND {} ORDER BY c.id",
                        where),
            now(), arg);
        std::vector<post> out;
        for (int i = 0; i < r.rows(); ++i) {
            out.push_back({r.str(i, 0), r.str(i, 1), r.str(i, 2), r.str(i, 3),
                           r.str(i, 4), r.f64(i, 5), static_cast<int>(r.i64(i, 6))});
        }
        return out;
    }

    // A slow organic growth plus what each post brings over its first day.
    std::int64_t followers()
    {
        double f = 5000;
        for (auto const& p : posts("$2 = ''")) {
            f += true_effects(m_seed, p).follows_total * std::min(1.0, p.age_hours / 24);
        }
        return std::llround(f);
    }

    db_connection m_db;
    std::uint64_t m_seed;
    int m_rate_limit_every;
    int m_tweet_requests = 0;
    std::mutex m_mutex;
    std::atomic<std::int64_t> m_now{0};
    httplib::Server m_server;
    std::thread m_thread;
    int m_port = 0;
};

struct options {
    std::optional<std::string> db;
    int days = 7;
    std::string start = "2026-03-01T00:00:00Z";
    std::uint64_t seed = 1;
    std::optional<std::string> html;
    bool json_out = false;
    int rate_limit_every = 0;
    std::optional<std::string> config_extra;
};

std::filesystem::path bin_dir()
{
    return std::filesystem::read_symlink("/proc/self/exe").parent_path();
}

class runner {
public:
    runner(options const& o, std::string config) : m_opts(o), m_config(std::move(config))
    {}

    // Runs xloop-<tool> at `now`; an exit code not in `expected` stops the
    // simulation.
    process_result run(std::string const& tool, std::vector<std::string> args,
                       timestamp now, std::set<int> const& expected = {0})
    {
        std::vector<std::string> argv{(bin_dir() / ("xloop-" + tool)).string()};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), {"--config", m_config, "-q"});
        if (m_opts.db) {
            argv.insert(argv.end(), {"--db", *m_opts.db});
        }
        process_result r;
        for (int attempt = 0;; ++attempt) {
            r = run_process({argv,
                             {},
                             {{"XLOOP_NOW", format_timestamp(now)},
                              {"X_BEARER_TOKEN", std::string{"sim-token"}}},
                             120000});
            // Nothing else runs the tools here, so a lock found held is the
            // previous run's, a moment late: cron's minutes would hide that,
            // the simulation's milliseconds may not. (The tools release
            // their session lock before exiting, so this should not happen.)
            if (r.exit_code != 75 || r.err.find("holds the lock") == std::string::npos ||
                attempt == 50) {
                break;
            }
            log::warn("xloop-{} found its lock held; again in 20 ms", tool);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (!expected.count(r.exit_code)) {
            throw error{fmt::format("xloop-{} at {} exited {}: {}", tool,
                                    format_timestamp(now), r.exit_code, r.err)};
        }
        return r;
    }

private:
    options const& m_opts;
    std::string m_config;
};

// The value with the largest effect (a post's other effects being equal).
template <typename K>
K best_of(std::map<K, double> const& effects, std::type_identity_t<K> const& except = {})
{
    K best{};
    double top = -1;
    for (auto const& [k, v] : effects) {
        if (k != except && v > top) {
            best = k;
            top = v;
        }
    }
    return best;
}

// Expected follows of a post (noise at its mean) for its slot, hook and UTC
// hour: what a policy is worth in this world.
double expected_follows(std::string const& slot, std::string const& hook, int hour)
{
    auto const h = hour_effect.find(hour);
    return 0.9 * (h == hour_effect.end() ? 1.0 : h->second) *
           lookup(slot_follows, slot, 3) * lookup(hook_effect, hook, 1.0);
}

template <typename K>
double mean_of(std::vector<K> const& keys, std::function<double(K const&)> const& f)
{
    double sum = 0;
    for (auto const& k : keys) {
        sum += f(k);
    }
    return keys.empty() ? 0 : sum / static_cast<double>(keys.size());
}

// Capture (DESIGN §5.6): (F − F_uniform) / (F_oracle − F_uniform), F the
// expected follows per post of the posts made (all of them, and those of the
// last 14 days), uniform drawing slot, hook and hour from the catalogue and
// the configured times, the oracle always the best of each.
json capture(db_connection& db, std::vector<int> const& hours, timestamp end)
{
    auto const catalogue = plan_catalogue(plan_config{});
    auto const& slots = catalogue.at("content_slot");
    auto const& hooks = catalogue.at("hook_type");
    auto const slot_mean = mean_of<std::string>(
        slots, [](auto const& k) { return lookup(slot_follows, k, 3); });
    auto const hook_mean = mean_of<std::string>(
        hooks, [](auto const& k) { return lookup(hook_effect, k, 1); });
    auto const hour_mean = mean_of<int>(hours, [](int const& h) {
        auto const it = hour_effect.find(h);
        return it == hour_effect.end() ? 1.0 : it->second;
    });
    double const uniform = 0.9 * slot_mean * hook_mean * hour_mean;
    double best_slot = 0, best_hook = 0, best_hour = 0;
    for (auto const& k : slots) {
        best_slot = std::max(best_slot, lookup(slot_follows, k, 3));
    }
    for (auto const& k : hooks) {
        best_hook = std::max(best_hook, lookup(hook_effect, k, 1));
    }
    for (int h : hours) {
        auto const it = hour_effect.find(h);
        best_hour = std::max(best_hour, it == hour_effect.end() ? 1.0 : it->second);
    }
    double const oracle = 0.9 * best_slot * best_hook * best_hour;
    auto const r =
        db.exec("SELECT coalesce(content_slot, ''), coalesce(hook_type, ''), "
                "extract(hour FROM posted_at AT TIME ZONE 'UTC')::int, "
                "posted_at > $1::timestamptz - interval '14 days' "
                "FROM public.content_generation_metadata_comprehensive "
                "WHERE status = 'posted' AND decision_type IS DISTINCT FROM 'reply' "
                "ORDER BY id", // one order of summation: the same bits every run
                end);
    double all = 0, last = 0;
    int n_all = 0, n_last = 0;
    for (int i = 0; i < r.rows(); ++i) {
        double const f =
            expected_follows(r.str(i, 0), r.str(i, 1), static_cast<int>(r.i64(i, 2)));
        all += f;
        ++n_all;
        if (r.boolean(i, 3)) {
            last += f;
            ++n_last;
        }
    }
    auto const cap = [&](double sum, int n) {
        return n == 0 ? 0.0 : (sum / n - uniform) / (oracle - uniform);
    };
    return {{"follows_per_post_uniform", uniform},
            {"follows_per_post_oracle", oracle},
            {"follows_per_post", n_all ? all / n_all : 0.0},
            {"capture", cap(all, n_all)},
            {"capture_last_14_days", cap(last, n_last)}};
}

// How the active map and the priorities compare with the hidden truth.
json score(db_connection& db)
{
    json out;
    auto const map = db.exec("SELECT weights::text FROM public.learning_model_weights "
                             "WHERE is_active");
    json weights = map.rows() ? json::parse(map.str(0, 0)) : json::object();
    auto top = [](json const& dim) {
        std::string best;
        double w = -1;
        for (auto const& [k, v] : dim.items()) {
            if (v.get<double>() > w) {
                best = k;
                w = v.get<double>();
            }
        }
        return best;
    };
    for (auto const& [dim, best] :
         {std::pair<std::string, std::string>{"content_slot", best_of(slot_er, "reply")},
          {"hook_type", best_of(hook_effect)},
          {"post_hour", fmt::format("{:02d}", best_of(hour_effect))}}) {
        json const d = weights.value(dim, json::object());
        out[dim] = {{"true_best", best},
                    {"learned_best", top(d)},
                    {"weight_of_true_best", d.value(best, 0.0)},
                    {"values", d.size()}};
    }
    auto const pr = db.exec("SELECT username FROM public.discovered_accounts "
                            "ORDER BY priority_score DESC, username LIMIT 2");
    json top_accounts = json::array();
    int hits = 0;
    for (int i = 0; i < pr.rows(); ++i) {
        top_accounts.push_back(pr.str(i, 0));
        hits += good_accounts.count(pr.str(i, 0)) ? 1 : 0;
    }
    out["replies"] = {
        {"true_best", good_accounts}, {"learned_top_2", top_accounts}, {"hits", hits}};
    // Exploitation: the share of how_to among queued posts, first vs last third.
    auto const share =
        db.exec("WITH p AS (SELECT content_slot, ntile(3) OVER (ORDER BY created_at, id) "
                "AS third "
                "FROM public.content_generation_metadata_comprehensive "
                "WHERE decision_type IN ('single', 'thread')) "
                "SELECT third, avg((content_slot = 'how_to')::int)::float8 FROM p "
                "GROUP BY third ORDER BY third");
    if (share.rows() == 3) {
        out["how_to_share"] = {{"first_third", share.f64(0, 1)},
                               {"last_third", share.f64(2, 1)}};
    }
    auto const posted = db.exec("SELECT count(*), count(*) FILTER (WHERE decision_type = "
                                "'reply') FROM public.content_generation_metadata_"
                                "comprehensive WHERE status = 'posted'");
    out["posts"] = posted.i64(0, 0); // replies included
    out["replies_posted"] = posted.i64(0, 1);
    out["outcomes_with_v2"] = db.exec("SELECT count(*) FROM public.outcomes WHERE "
                                      "primary_objective_score IS NOT NULL")
                                  .i64(0, 0);
    return out;
}

int simulate(options const& o)
{
    auto const conninfo = resolve_conninfo(o.db);
    db_connection db{conninfo, "xloop-sim"};
    auto const start = parse_timestamp(o.start);
    if (!start) {
        throw usage_error{fmt::format("--start: not an ISO 8601 time: '{}'", o.start)};
    }
    world w{conninfo, o.seed, o.rate_limit_every};
    char dir_template[] = "/tmp/xloop-sim-XXXXXX";
    std::filesystem::path const dir = mkdtemp(dir_template);
    auto const config = (dir / "xloop.yaml").string();
    std::ofstream{config} << "x_api:\n  base_url: " << w.base_url()
                          << "\n  timeout_ms: 5000\n  retries: 1\n  backoff_ms: 10\n"
                          // three posts a day at eight possible times: which
                          // ones get a post is learned (post_hour)
                          << "plan:\n  times: [\"08:00\", \"10:00\", \"12:00\", "
                             "\"14:00\", \"16:00\", \"18:00\", \"20:00\", \"22:00\"]\n"
                          << "  posts_per_day: 3\n"
                          << "  min_gap_minutes: 90\n";
    if (o.config_extra) {
        // e.g. the original's learning, for comparison (bench/learning/)
        std::ifstream extra{*o.config_extra};
        if (!extra) {
            throw usage_error{
                fmt::format("--config-extra: cannot read '{}'", *o.config_extra)};
        }
        std::ofstream{config, std::ios::app} << extra.rdbuf();
    }
    runner tools{o, config};
    tools.run("migrate", {}, *start); // a no-op on a migrated database

    db.exec("INSERT INTO public.discovered_accounts (username, follower_count) "
            "SELECT 'account_' || a, 1000 * a FROM generate_series(1, $1::int) a "
            "WHERE NOT EXISTS (SELECT 1 FROM public.discovered_accounts d "
            "WHERE lower(d.username) = 'account_' || a)",
            accounts);

    auto const tick = std::chrono::minutes{20};
    auto const end = *start + std::chrono::days{o.days};
    int n = 0;
    std::int64_t rate_limited = 0;
    for (auto now = *start; now <= end; now += tick, ++n) {
        w.set_now(now);
        auto const minute = static_cast<int>(
            std::chrono::duration_cast<std::chrono::minutes>(now - *start).count());
        auto const seed = std::to_string(o.seed * 100003 + static_cast<std::uint64_t>(n));
        // The harvester finds two tweets to reply to every 3 hours (tick n is
        // 20 minutes): their authors take turns through every account.
        if (minute % 180 == 0) {
            db.exec("INSERT INTO public.reply_opportunities (tweet_id, tweet_author, "
                    "tweet_content, opportunity_score, discovered_at) "
                    "SELECT 'opp_' || $2 || '_' || g, "
                    "'account_' || (1 + (2 * ($2::int / 9) + g) % $3::int), "
                    "'Take ' || $2 || ': dashboards lie', 0.3 + 0.1 * g, $1::timestamptz "
                    "FROM generate_series(1, 2) g ON CONFLICT DO NOTHING",
                    now, n, accounts);
        }
        // Cron: plan hourly, learn-replies every 90 min, build-weights every 6 h.
        if (minute % 60 == 0) {
            tools.run("plan", {"--seed", seed}, now);
            tools.run("plan", {"--replies", "1", "--seed", seed}, now);
        }
        // The poster publishes what is due.
        db.exec("UPDATE public.content_generation_metadata_comprehensive SET "
                "status = 'posted', tweet_id = (9000000000 + id)::text, "
                "posted_at = greatest(coalesce(scheduled_at, created_at), created_at) "
                "WHERE status = 'queued' "
                "AND coalesce(scheduled_at, created_at) <= $1::timestamptz",
                now);
        // A rate-limited run exits 75 and keeps what it wrote; the next
        // tick goes on.
        if (tools.run("scrape-metrics", {}, now, {0, 75}).exit_code == 75) {
            ++rate_limited;
        }
        if (minute % 90 == 0) {
            tools.run("learn-replies", {}, now);
        }
        if (minute % 360 == 0) {
            tools.run("build-weights", {"--seed", seed}, now);
        }
    }
    auto result = score(db);
    result["capture"] = capture(db, {8, 10, 12, 14, 16, 18, 20, 22}, end);
    result["days"] = o.days;
    result["rate_limited_runs"] = rate_limited;
    result["seed"] = o.seed;
    std::vector<std::string> validate_args;
    if (o.html) {
        validate_args = {"--html", *o.html};
    }
    auto const v = tools.run("validate", validate_args, end, {0, 1}); // READY or not
    result["validate_exit"] = v.exit_code;
    std::filesystem::remove_all(dir);

    if (o.json_out) {
        std::cout << result.dump(2) << '\n';
        return 0;
    }
    auto const posts = result["posts"].get<long>();
    auto const replies = result["replies_posted"].get<long>();
    std::cout << fmt::format(
        "after {} simulated days ({} posts and {} replies, {} outcomes with v2):\n",
        o.days, posts - replies, replies, result["outcomes_with_v2"].get<long>());
    for (auto const* dim : {"content_slot", "hook_type", "post_hour"}) {
        auto const& d = result[dim];
        std::cout << fmt::format(
            "  {:<13} true best {:<9} learned best {:<9} {:<5} its weight {:.3f}: plan "
            "draws the true best {:.0f} % of the time\n",
            dim, d["true_best"].get<std::string>(), d["learned_best"].get<std::string>(),
            d["true_best"] == d["learned_best"] ? "right" : "WRONG",
            d["weight_of_true_best"].get<double>(),
            100 * d["weight_of_true_best"].get<double>());
    }
    std::cout << fmt::format(
        "  replies       true best account_3, account_7; top 2 learned: {}\n",
        result["replies"]["learned_top_2"].dump());
    auto const& cap = result["capture"];
    std::cout << fmt::format(
        "  capture of the oracle's gain over uniform posting: {:.0f}% over {} days, "
        "{:.0f}% over the last 14 ({:.2f} expected follows a post; uniform {:.2f}, "
        "oracle {:.2f})\n",
        100 * cap["capture"].get<double>(), o.days,
        100 * cap["capture_last_14_days"].get<double>(),
        cap["follows_per_post"].get<double>(),
        cap["follows_per_post_uniform"].get<double>(),
        cap["follows_per_post_oracle"].get<double>());
    if (result.contains("how_to_share")) {
        std::cout << fmt::format(
            "  how_to share of posts: {:.0f}% in the first third, "
            "{:.0f}% in the last\n",
            100 * result["how_to_share"]["first_third"].get<double>(),
            100 * result["how_to_share"]["last_third"].get<double>());
    }
    if (rate_limited > 0) {
        std::cout << fmt::format(
            "  {} scrape runs were rate limited (exit 75) and the next "
            "ones caught up\n",
            rate_limited);
    }
    std::cout << v.out;
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App cli{
        "xloop-sim: runs the loop against a simulated world (posting, reply "
        "opportunities, a fake X API on 127.0.0.1 with hidden true effects) and "
        "scores what it learned. Migrates the database first (a scratch one: it writes "
        "the loop's tables)."};
    options o;
    cli.add_option("--db", o.db, "Connection string (else DATABASE_URL, else PG*)");
    cli.add_option("--days", o.days, "Simulated days")->check(CLI::Range(1, 365));
    cli.add_option("--start", o.start, "Simulated start time (ISO 8601)");
    cli.add_option("--seed", o.seed, "Seed of the world and of the tools' draws");
    cli.add_option("--html", o.html, "Write validate's HTML report here at the end");
    cli.add_flag("--json", o.json_out, "Print the score as JSON");
    cli.add_option("--config-extra", o.config_extra,
                   "YAML appended to the tools' config (top-level sections the "
                   "simulator does not set, e.g. weights:)");
    cli.add_option("--rate-limit-every", o.rate_limit_every,
                   "Answer every Nth metrics request with HTTP 429 (0: never)")
        ->check(CLI::Range(0, 1000000));
    try {
        cli.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        return cli.exit(e) == 0 ? 0 : static_cast<int>(exit_code::usage);
    }
    log::configure("sim", log::format::text, log::level::info);
    try {
        return simulate(o);
    } catch (std::exception const& e) {
        log::error("{}", e.what());
        return static_cast<int>(exit_code_for(e));
    }
}
