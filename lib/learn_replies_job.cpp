#include "learn_replies_job.hpp"

#include "app.hpp"

#include "copy_row.hpp"
#include "learning_target_db.hpp"
#include "log.hpp"
#include "priority.hpp"
#include "reply_opportunity.hpp"
#include "text.hpp"
#include "view_hash.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace xloop {

namespace {

struct account {
    std::string key;      // lower-cased username, the join key
    std::string spelling; // as the newest reply wrote it, for inserts
    timestamp spelling_at{};
    group_stats stats;
    reply_frontier frontier;
    account_priority result;
    std::optional<timestamp> last_success;
};

struct streamed {
    group_stats all;
    std::int64_t non_finite = 0; // replies with a NaN or infinite metric
    // replies to a target_username that is no X handle ('amy smith'), and the
    // first of them by spelling
    std::int64_t not_handles = 0;
    std::string not_handle_example;
    std::int64_t own = 0;   // replies to the account itself (own_handle())
    std::string own_handle; // "" when unknown
    std::vector<account> accounts;
};

// The window's replies with v2 metrics that name the account answered (or,
// `named` false, that do not). COPY takes no parameters; the bounds are
// quoted literals so the planner sees how many rows the window holds.
std::string window_replies(timestamp now, replies_config const& cfg, bool named = true)
{
    return fmt::format(
        "has_v2_metrics AND decision_type = 'reply' AND coalesce(btrim(target_username), "
        "'') {}IN ('', '@') AND posted_at > {}::timestamptz AND posted_at <= "
        "{}::timestamptz",
        named ? "NOT " : "",
        quote_literal(format_timestamp(now - fractional_days(cfg.window_days))),
        quote_literal(format_timestamp(now - fractional_hours(cfg.min_age_hours))));
}

// The window's replies as they stream by, summed per account (memory grows
// with accounts, not replies). The target's components are standardised over
// the window's replies: their scales come first, in two leading rows of the
// same scan (scales_then_rows_copy).
class reply_sums {
public:
    reply_sums(run_context& run, std::string own_key)
        : m_run(run), m_target_c(target_weights(run.cfg().weights.target)),
          m_half_life(run.cfg().replies.half_life_days), m_own(std::move(own_key)),
          m_now_micros(run.now().time_since_epoch().count())
    {}

    void add(binary_copy_reader const& row)
    {
        if (row.size() != 3 + component_columns || scale_row(row) || row.is_null(2) ||
            left_out(row)) {
            return;
        }
        auto const x = read_components(row, 3);
        // numeric columns hold NaN: such a value counts as missing
        if (std::any_of(x.x.begin(), x.x.end(),
                        [](auto const& v) { return v && !std::isfinite(*v); })) {
            ++m_s.non_finite;
        }
        if (auto const target = learning_target(x, m_scales, m_target_c)) {
            add_reply(row, *target);
        }
    }

    // The accounts in the order of their keys.
    streamed finish()
    {
        std::sort(m_s.accounts.begin(), m_s.accounts.end(),
                  [](auto const& a, auto const& b) { return a.key < b.key; });
        return std::move(m_s);
    }

private:
    // One of the leading rows of the window's scales: read, nothing else.
    bool scale_row(binary_copy_reader const& row)
    {
        if (m_scale_reader.read(row, 1, 3)) {
            if (m_scale_reader.complete()) {
                m_scales = m_scale_reader.scales();
            }
            return true;
        }
        if (!m_scale_reader.complete()) {
            throw error{"learn-replies: a reply came before the window's scales "
                        "(a parallel plan?)"};
        }
        return false;
    }

    // A reply that says nothing about whom to reply to, counted.
    bool left_out(binary_copy_reader const& row)
    {
        // A reply to the account itself (a thread's next part, an answer in
        // its own mentions): plan never replies to its own posts. Left out
        // of the scales too.
        if (!m_own.empty() && row.text(0) == m_own) {
            ++m_s.own;
            return true;
        }
        // plan never replies to such an author: no priority to learn (the
        // window's scales, read before, count the reply)
        if (!is_x_handle(row.text(0))) {
            ++m_s.not_handles;
            if (m_s.not_handle_example.empty() || row.text(1) < m_s.not_handle_example) {
                m_s.not_handle_example = row.text(1);
            }
            return true;
        }
        return false;
    }

    void add_reply(binary_copy_reader const& row, double y)
    {
        auto const posted_micros = row.timestamptz_unix_micros(2);
        timestamp const posted{std::chrono::microseconds{posted_micros}};
        double const w =
            recency_weight(age_days(m_now_micros, posted_micros), m_half_life);
        auto& a = account_of(row.text(0));
        a.stats.add(w, y);
        a.frontier.add(posted, y);
        if (a.spelling.empty() || posted > a.spelling_at ||
            (posted == a.spelling_at && row.text(1) < a.spelling)) {
            a.spelling = row.text(1);
            a.spelling_at = posted;
        }
        m_s.all.add(w, y);
        if ((m_s.all.n & 0xffff) == 0) {
            m_run.check_interrupted();
        }
    }

    account& account_of(std::string_view key)
    {
        auto it = m_index.find(key);
        if (it == m_index.end()) {
            it = m_index.emplace(std::string{key}, m_s.accounts.size()).first;
            m_s.accounts.push_back({});
            m_s.accounts.back().key = key;
        }
        return m_s.accounts[it->second];
    }

    run_context& m_run;
    std::array<double, target_component_count> m_target_c;
    double m_half_life;
    std::string m_own;
    std::int64_t m_now_micros;
    scale_rows m_scale_reader;
    target_scales m_scales;
    std::unordered_map<std::string, std::size_t, view_hash, std::equal_to<>> m_index;
    streamed m_s;
};

streamed stream_replies(run_context& run)
{
    auto const window = window_replies(run.now(), run.cfg().replies);
    auto const handle = own_handle(run.db(), run.cfg());
    auto const own = account_key(handle);
    auto const sql =
        scales_then_rows_copy(run.db(),
                              {{account_key_sql("target_username"), "text"},
                               // the spelling a new account is stored with: as
                               // plan looks an author up, '@Amy ' is Amy
                               {"ltrim(btrim(target_username), '@')", "text"},
                               {"posted_at", "timestamptz"}},
                              window, own.empty() ? "" : "l0 <> " + quote_literal(own));
    reply_sums sums{run, own};
    binary_copy_reader reader;
    run.db().copy_out(
        sql,
        [&](std::string_view message) {
            reader.feed(message, [&](binary_copy_reader const& row) { sums.add(row); });
        },
        true);
    auto s = sums.finish();
    s.own_handle = handle;
    return s;
}

nlohmann::json account_json(account const& a)
{
    return {{"username", a.spelling},
            {"priority_score", a.result.priority_score},
            {"reply_performance_score", a.result.reply_performance_score},
            {"sd", a.result.sd},
            {"replies", a.result.n},
            {"n_eff", a.result.n_eff},
            {"last_successful_reply_at",
             a.last_success ? nlohmann::json(format_timestamp(*a.last_success))
                            : nlohmann::json(nullptr)}};
}

// Kept for the session, emptied at commit: creating and dropping it in every
// run churns the catalog for nothing.
constexpr char const* create_priorities = R"sql(
CREATE TEMP TABLE IF NOT EXISTS xloop_reply_priority (
    key text, username text, reply_performance_score numeric(10,6),
    priority_score numeric(10,6), last_success timestamptz
) ON COMMIT DELETE ROWS)sql";

// One pass over the accounts (a full join on the username as replies are
// keyed, lower case without '@' or spaces, exact equality, never LIKE:
// defect 11; the original bot's '@Amy' is amy's row, kept as it spells it)
// finds what changes: accounts whose priority moved,
// accounts with no reply left in the window (back to "no evidence"; the last
// success stays) and accounts not there yet. Rows that would not change are
// left alone, so a run with nothing new writes nothing. One scan of the table
// instead of three, and no statistics needed on the temp table. A row is
// found again by its address: its ctid, and its partition's oid (a
// partitioned table's partitions have rows at the same ctids).
std::string const changed_accounts = R"sql(
WITH j AS MATERIALIZED (
     SELECT d.tableoid AS part, d.ctid AS tid, t.*
       FROM public.discovered_accounts d
       FULL JOIN xloop_reply_priority t ON )sql" +
                                     account_key_sql("d.username") +
                                     R"sql( = t.key
      WHERE d.ctid IS NULL
         OR (t.key IS NULL AND (d.priority_score IS DISTINCT FROM 0.5
                                OR d.reply_performance_score IS NOT NULL))
         OR (t.key IS NOT NULL
             AND (d.priority_score IS DISTINCT FROM t.priority_score
                  OR d.reply_performance_score IS DISTINCT FROM t.reply_performance_score
                  OR d.last_successful_reply_at IS DISTINCT FROM
                     coalesce(t.last_success, d.last_successful_reply_at)))))sql";

std::string const write_accounts = changed_accounts + R"sql(,
up AS (
     UPDATE public.discovered_accounts d
        SET priority_score = coalesce(j.priority_score, 0.5),
            reply_performance_score = j.reply_performance_score,
            last_successful_reply_at = coalesce(j.last_success, d.last_successful_reply_at),
            last_updated = $1::timestamptz
       FROM j
      WHERE j.tid IS NOT NULL AND d.ctid = j.tid AND d.tableoid = j.part
     RETURNING j.key IS NULL AS reset),
ins AS (
     INSERT INTO public.discovered_accounts
            (username, priority_score, reply_performance_score, last_successful_reply_at,
             last_updated)
     SELECT j.username, j.priority_score, j.reply_performance_score, j.last_success,
            $1::timestamptz
       FROM j
      WHERE j.tid IS NULL
         ON CONFLICT DO NOTHING
     RETURNING 1)
SELECT (SELECT count(*) FILTER (WHERE NOT reset) FROM up),
       (SELECT count(*) FILTER (WHERE reset) FROM up),
       (SELECT count(*) FROM ins))sql";

// What write_accounts would write, written nowhere: a dry run's counts.
std::string const count_changes = changed_accounts + R"sql(
SELECT count(*) FILTER (WHERE tid IS NOT NULL AND key IS NOT NULL),
       count(*) FILTER (WHERE tid IS NOT NULL AND key IS NULL),
       count(*) FILTER (WHERE tid IS NULL)
  FROM j)sql";

// A dry run's report: the ten best and ten worst accounts (--json), and
// the three of each in words.
void report_ranking(run_context& run, std::vector<account> const& accounts)
{
    std::vector<account const*> ranked;
    for (auto const& a : accounts) {
        ranked.push_back(&a);
    }
    std::stable_sort(ranked.begin(), ranked.end(), [](auto const* a, auto const* b) {
        return a->result.priority_score > b->result.priority_score;
    });
    auto& top = run.summary()["top"] = nlohmann::json::array();
    auto& bottom = run.summary()["bottom"] = nlohmann::json::array();
    std::size_t const k = std::min<std::size_t>(10, ranked.size());
    for (std::size_t i = 0; i < k; ++i) {
        top.push_back(account_json(*ranked[i]));
        bottom.push_back(account_json(*ranked[ranked.size() - 1 - i]));
    }
    auto const three = [&](bool best) {
        std::string out;
        for (std::size_t i = 0; i < std::min<std::size_t>(3, ranked.size()); ++i) {
            auto const& a = *ranked[best ? i : ranked.size() - 1 - i];
            out += fmt::format("{}@{} {:.3f} ({})", i ? ", " : "", a.spelling,
                               a.result.priority_score,
                               counted(a.result.n, "reply", "replies"));
        }
        return out;
    };
    if (!ranked.empty()) {
        log::info("  best: {}", three(true));
        log::info("  worst: {}", three(false));
    }
}

struct written {
    std::int64_t updated = 0, reset = 0, inserted = 0;
};

// The accounts' priorities, copied once and applied by one set-based write
// (a dry run: counted, not applied).
written write_priorities(run_context& run, std::vector<account> const& accounts)
{
    auto& db = run.db();
    db.exec(create_priorities);
    {
        copy_writer w{db, "COPY xloop_reply_priority FROM STDIN"};
        for (auto const& a : accounts) {
            w.add(a.key);
            w.add(a.spelling);
            w.add(a.result.reply_performance_score);
            w.add(a.result.priority_score);
            w.add(a.last_success);
            w.end_row();
        }
        w.finish();
    }
    auto const r =
        run.dry_run() ? db.exec(count_changes) : db.exec(write_accounts, run.now());
    return {r.i64(0, 0), r.i64(0, 1), r.i64(0, 2)};
}

} // namespace

// The window's replies that name no account (target_username empty): written
// by another program, or by a poster that does not record it.
std::int64_t unnamed_replies(db_connection& db, timestamp now, replies_config const& cfg)
{
    return db
        .exec("SELECT count(*) FROM xloop.vw_learning WHERE " +
              window_replies(now, cfg, false))
        .i64(0, 0);
}

std::string unnamed_replies_text(std::int64_t n, double days)
{
    return fmt::format("{} of the last {} days name no account answered (target_username "
                       "is empty: written by another program, such as the original bot, "
                       "or by a poster that does not record it): nothing to learn from "
                       "until xloop-scrape-metrics names them: the author of the post "
                       "each answers where reply_opportunities has it (target_tweet_id), "
                       "or with the X API the account X says it answers (at its next age "
                       "checkpoint; past its last, run xloop-scrape-metrics --backfill "
                       "once); the replies xloop-plan queues name theirs",
                       counted(n, "reply", "replies"), days);
}

// What the stream left out, and why, as warnings and summary keys.
void report_left_out(run_context& run, streamed const& s)
{
    if (s.non_finite > 0) {
        log::warn(
            "{} of the window {} a NaN or infinite metric; those values were left out",
            counted(s.non_finite, "reply", "replies"),
            s.non_finite == 1 ? "has" : "have");
        run.summary()["non_finite_rows"] = s.non_finite;
    }
    if (s.not_handles > 0) {
        log::warn(
            "{} of the window to a target_username that is no X handle (e.g. {:?}): "
            "left out, no account learned for {}",
            counted(s.not_handles, "reply", "replies"),
            example_text(s.not_handle_example, 40), s.not_handles == 1 ? "it" : "them");
        run.summary()["not_handle_replies"] = s.not_handles;
    }
    if (s.own > 0) {
        log::info("{} of the window {} the account itself (@{}): left out, as plan "
                  "never replies to its own posts",
                  counted(s.own, "reply", "replies"), s.own == 1 ? "answers" : "answer",
                  s.own_handle);
        run.summary()["own_replies"] = s.own;
    }
    if (s.all.n == 0) {
        if (auto const unnamed = unnamed_replies(run.db(), run.now(), run.cfg().replies);
            unnamed > 0) {
            log::warn("{}", unnamed_replies_text(unnamed, run.cfg().replies.window_days));
            run.summary()["unnamed_replies"] = unnamed;
        }
    }
}

void run_learn_replies(run_context& run)
{
    auto const& cfg = run.cfg().replies;
    transaction tx{run.db()};
    if (!run.dry_run()) {
        run.lock_in_transaction(); // transaction-scoped: works behind a pooler
    }
    auto s = stream_replies(run);
    report_left_out(run, s);
    double const mu0 = s.all.weighted_mean();
    double const sigma = s.all.weighted_sd();
    for (auto& a : s.accounts) {
        a.result = reply_priority(a.stats, mu0, sigma, cfg.kappa);
        a.last_success = a.frontier.latest_above(mu0);
    }
    run.rows_in = s.all.n;
    run.summary()["replies"] = s.all.n;
    run.summary()["accounts"] = s.accounts.size();
    run.summary()["global_mean"] = mu0;
    run.summary()["global_sd"] = sigma;
    run.detail()["accounts"] = s.accounts.size();
    auto const n = write_priorities(run, s.accounts);
    std::pair<char const*, std::int64_t> const counts[] = {
        {"updated", n.updated}, {"reset", n.reset}, {"inserted", n.inserted}};
    for (auto const& [key, value] : counts) {
        run.summary()[key] = value;
    }
    auto const learned_from = fmt::format(
        "{} over {}", counted(s.all.n, "reply", "replies"),
        counted(static_cast<long long>(s.accounts.size()), "account", "accounts"));
    if (run.dry_run()) {
        log::info("dry run: {} (global mean {:.4f}): {} to update, {} back to 0.5, {} to "
                  "insert; nothing written",
                  learned_from, mu0, n.updated, n.reset, n.inserted);
        report_ranking(run, s.accounts);
        return; // the transaction rolls back: the temp table's rows too
    }
    run.check_interrupted(); // a signal before the commit: nothing is kept
    tx.commit();
    run.rows_out = n.updated + n.reset + n.inserted;
    for (auto const& [key, value] : counts) {
        run.detail()[key] = value; // the ledger's, once committed
    }
    log::info("{}: {} updated, {} back to 0.5, {} inserted", learned_from, n.updated,
              n.reset, n.inserted);
}

} // namespace xloop
