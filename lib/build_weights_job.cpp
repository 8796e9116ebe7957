#include "build_weights_job.hpp"

#include "app.hpp"

#include "json_text.hpp"
#include "learning_target_db.hpp"
#include "log.hpp"
#include "reply_opportunity.hpp"
#include "row_id.hpp"
#include "text.hpp"
#include "weight_map.hpp"
#include "window_sums.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace xloop {

namespace {

// The next version is one above the highest whole-number version so far. The
// original bot's column is text (values like '1.1760000000000'): read it as
// text, count only numbers, and let the column's own type take the result.
constexpr char const* insert_map_sql = R"sql(
INSERT INTO public.learning_model_weights
       (weights, posteriors, computed_at, date_range_start, date_range_end, sample_size,
        version, avg_primary_objective_score, avg_followers_gained_weighted,
        total_posts_analyzed, is_active, cross_fit)
SELECT $1::jsonb, $2::jsonb, $3::timestamptz, $4::timestamptz, $3::timestamptz, $5,
       n.next, $6, $7, $5, true, $8::jsonb
  FROM (SELECT coalesce(max(CASE WHEN version::text ~ '^\s*[0-9]{1,15}(\.[0-9]*)?\s*$'
                                 THEN floor(version::text::numeric) END), 0)::bigint + 1
               AS next
          FROM public.learning_model_weights) n
RETURNING id::text, version::text)sql";

// The active map, if it is the one this run computed: at the same time,
// from the same window and rows, with the same weights (an adopted table's
// columns may be json, which has no equality).
constexpr char const* same_map_sql = R"sql(
SELECT id::text, version::text
  FROM public.learning_model_weights
 WHERE is_active AND weights::jsonb = $1::jsonb AND posteriors::jsonb = $2::jsonb
   AND computed_at = $3::timestamptz AND date_range_start = $4::timestamptz
   AND sample_size = $5 AND cross_fit::jsonb IS NOT DISTINCT FROM $6::jsonb)sql";

// The local hour of the time plan chose for the post (scheduled_at), which
// its post_hour draws are keyed by: a poster on its own cron publishes a
// 17:45 post at 18:00, and learning that as 18 would leave every time plan
// draws unlearned. A post that went out before its time or more than two
// hours after (by hand, after an outage), or has none (the original bot's),
// is learned at the hour it went out. PostgreSQL does the timezone (and DST)
// math.
std::string const post_hour_sql = fmt::format(R"sql(extract(hour FROM
    CASE WHEN posted_at >= scheduled_at
          AND posted_at < scheduled_at + make_interval(mins => {})
         THEN scheduled_at ELSE posted_at END
    AT TIME ZONE (SELECT current_setting('xloop.tz')))::int)sql",
                                              post_hour_late_minutes);

// vw_learning column (or expression) of each dimension of §5.3.
std::string dimension_sql(std::string const& dimension)
{
    if (dimension == "post_hour") {
        return post_hour_sql;
    }
    return quote_ident(dimension);
}

// Replies take part as their own value where they have one (content_slot,
// decision_type, structure_type: 'reply'). The other dimensions are the
// attributes plan draws for posts: a reply's classified hook or its hour
// (whenever an opportunity came) would mix two populations with different
// reach into the posts' values, so they are learned from posts only.
std::string learned_from(std::string const& dimension)
{
    if (dimension == "content_slot" || dimension == "decision_type" ||
        dimension == "structure_type") {
        return dimension_sql(dimension);
    }
    return fmt::format("CASE WHEN decision_type IS DISTINCT FROM 'reply' THEN {} END",
                       dimension_sql(dimension));
}

// The window's rows with v2 metrics (or, `scored` false, those measured
// without one). COPY takes no parameters, and the planner must see the
// window's bounds to estimate its rows (a subquery over current_setting() is
// a fixed guess, 5 000 rows where there are 666 671, and a nested loop
// instead of a hash join): quoted literals.
std::string window_rows(run_context const& run, learning_window const& window,
                        bool scored = true)
{
    return fmt::format(
        "{} AND posted_at > {}::timestamptz AND posted_at <= {}::timestamptz",
        scored ? "has_v2_metrics" : "has_metrics AND NOT has_v2_metrics",
        quote_literal(format_timestamp(run.now() - fractional_days(window.days))),
        quote_literal(format_timestamp(
            run.now() - fractional_hours(run.cfg().weights.min_age_hours))));
}

// The window's rows as binary COPY: posted_at, the score, fgw, the target's
// components, then one column per dimension.
std::string window_copy_sql(run_context& run, learning_window const& window,
                            std::vector<std::string> const& dimensions)
{
    outcome_reads const reads{run.db()};
    std::string select =
        fmt::format("posted_at, {}, {}, {}", reads("primary_objective_score"),
                    reads("followers_gained_weighted"), reads.components_list());
    for (auto const& d : dimensions) {
        select += ", " + learned_from(d);
    }
    // after the dimensions: the account a reply answered, as learn-replies
    // keys it (reply_strata)
    select += fmt::format(", CASE WHEN decision_type = 'reply' THEN coalesce({}, '') END",
                          account_key_sql("target_username"));
    return fmt::format("COPY (SELECT {} FROM xloop.vw_learning WHERE {}) TO "
                       "STDOUT (FORMAT binary)",
                       select, window_rows(run, window));
}

learning_window window_of(run_context& run)
{
    auto const& w = run.cfg().weights;
    auto const window = learning_window_at(run.db(), w, run.now());
    if (window.days > w.window_days) {
        log::info("fewer than weights.window_posts ({}) posts in the last {}: "
                  "learning from the last {:.1f} days, half-life {:.1f} days",
                  w.window_posts, last_days_text(w.window_days), window.days,
                  window.half_life_days);
    }
    return window;
}

// The map row's average score and fgw: none without a row that has one.
std::optional<double> rounded_mean(long double sum, std::int64_t n)
{
    return n > 0 ? std::optional{stored_number(static_cast<double>(sum / n))}
                 : std::nullopt;
}

nlohmann::json weights_json(weight_map const& map)
{
    auto j = nlohmann::json::object();
    for (auto const& [dimension, dim] : map) {
        auto& d = j[dimension] = nlohmann::json::object();
        for (auto const& [value, arm] : dim.arms) {
            d[value] = stored_number(arm.weight);
        }
    }
    return j;
}

// {dimension: {value: {mean, shrunk_mean, sd, n, n_eff, p_best}}}, plus
// "_prior": {dimension: {mean, sd, kappa}}: what xloop-plan uses for values
// without data, and the shrinkage of each weighed component.
nlohmann::json posteriors_json(weight_map const& map, double kappa,
                               std::array<double, target_component_count> const& target_c,
                               std::map<std::string, found_change> const& changed)
{
    auto j = nlohmann::json::object();
    auto& prior = j["_prior"] = nlohmann::json::object();
    for (auto const& [dimension, dim] : map) {
        auto& d = j[dimension] = nlohmann::json::object();
        for (auto const& [value, arm] : dim.arms) {
            d[value] = {{"mean", stored_number(arm.post.mean)},
                        {"shrunk_mean", stored_number(arm.post.shrunk_mean)},
                        {"sd", stored_number(arm.post.sd)},
                        {"n", arm.post.n},
                        {"n_eff", stored_number(arm.post.n_eff)},
                        {"p_best", stored_number(arm.p_best)}};
        }
        auto shrinkage = nlohmann::json::object();
        for (std::size_t k = 0; k < dim.kappa.size() && k < target_component_count; ++k) {
            if (target_c[k] > 0) {
                shrinkage[target_component_names[k]] = stored_number(dim.kappa[k]);
            }
        }
        prior[dimension] = {
            {"mean", stored_number(dim.prior_mean)},
            {"epsilon", stored_number(dim.epsilon)},
            {"sigma", stored_number(std::max(dim.sigma, min_sd))},
            {"sd", stored_number(
                       std::max(dim.prior_sd, min_sd / std::sqrt(std::max(kappa, 1.0))))},
            {"kappa", shrinkage}};
        if (target_c[engagement_rate_component] > 0) {
            prior[dimension]["engagement_rate_trust"] = stored_number(dim.proxy_trust);
        }
        if (auto const c = changed.find(dimension); c != changed.end()) {
            prior[dimension]["changed"] = {
                {"statistic", stored_number(c->second.test.statistic)},
                {"threshold", stored_number(c->second.test.threshold)},
                {"learned_from_days", c->second.days}};
        }
    }
    return j;
}

// Per half of the posts, the posteriors of the map learned from the other
// half (null where that half has no rows or its map would not be usable).
nlohmann::json cross_fit_json(streamed const& s, weights_config const& cfg)
{
    auto j = nlohmann::json::array();
    for (int k = 0; k < 2; ++k) {
        if (s.without_rows[k] == 0) {
            j.push_back(nullptr);
            continue;
        }
        auto const map = compute_weight_map(s.without[k], cfg.kappa, cfg.epsilon,
                                            cfg.epsilon_decay_posts, replies_own,
                                            engagement_rate_component);
        j.push_back(map_defect(map)
                        ? nlohmann::json(nullptr)
                        : posteriors_json(map, cfg.kappa, target_weights(cfg.target),
                                          s.without_changed[k]));
    }
    return j;
}

// The window's posts and replies measured but not scored (the original
// bot's outcomes): asked only when too few rows can be learned from, to
// say why.
std::int64_t unscored_rows(run_context& run, learning_window const& window)
{
    return run.db()
        .exec("SELECT count(*) FROM xloop.vw_learning WHERE " +
              window_rows(run, window, false))
        .i64(0, 0);
}

// Counts what the window held; false, and the run skipped, when it holds
// fewer than weights.min_posts rows that can be learned from.
bool enough_rows(run_context& run, streamed const& s, learning_window const& window)
{
    run.rows_in = s.rows;
    if (s.non_finite > 0) {
        log::warn(
            "{} a NaN or infinite metric; those values were left out",
            counted(s.non_finite, "row of the window has", "rows of the window have"));
        run.summary()["non_finite_rows"] = s.non_finite;
    }
    for (auto const& [dim, n] : s.left_out) {
        log::warn("{}: more than {} distinct values in the window (free text?); {} "
                  "rows whose value came later were not learned from in {} (the "
                  "catalogue's values always are)",
                  dim, max_raw_values, n, dim);
        run.summary()["left_out_rows"][dim] = n;
    }
    auto const min_posts = run.cfg().weights.min_posts;
    if (s.rows < min_posts) {
        auto const unscored = unscored_rows(run, window);
        run.skip(fmt::format(
            "{} rows with v2 metrics in the last {} days, fewer than weights.min_posts "
            "({}); no map written{}",
            s.rows, stored_number(window.days), min_posts,
            unscored == 0
                ? ""
                : fmt::format("; {} of the window {} metrics but no v2 score (an "
                              "adopted database's): xloop-scrape-metrics scores those "
                              "posted in the last {} days",
                              counted(unscored, "post or reply", "posts and replies"),
                              unscored == 1 ? "has" : "have",
                              std::ceil(run.cfg().metrics.max_age_days) + 1)));
        run.summary()["sample_size"] = s.rows;
        if (unscored > 0) {
            run.summary()["without_v2_metrics"] = unscored;
        }
        return false;
    }
    return true;
}

// One line a dimension: its values by weight, the first three (for a
// person running it by hand; -q hides it).
void log_leaders(nlohmann::json const& weights)
{
    for (auto const& [dim, values] : weights.items()) {
        std::vector<std::pair<double, std::string>> by_weight;
        for (auto const& [value, w] : values.items()) {
            by_weight.emplace_back(w.get<double>(), value);
        }
        std::sort(by_weight.begin(), by_weight.end(), [](auto const& a, auto const& b) {
            return a.first != b.first ? a.first > b.first : a.second < b.second;
        });
        std::string top;
        for (std::size_t i = 0; i < by_weight.size() && i < 3; ++i) {
            // two decimals, or two digits where that would read 0.00 (a
            // thousand free-text topics of 0.001 each)
            auto const w = by_weight[i].first;
            top += fmt::format("{}{} {}", i ? ", " : "", excerpt(by_weight[i].second, 40),
                               w >= 0.005 || w == 0 ? fmt::format("{:.2f}", w)
                                                    : fmt::format("{:.2g}", w));
        }
        log::info("  {}: {}{}", dim, top,
                  by_weight.size() > 3 ? fmt::format(", … ({} values)", by_weight.size())
                                       : std::string{});
    }
}

// The run's map, in its ledger row and --json.
void record_map(run_context& run, std::string const& id, std::int64_t version)
{
    run.detail()["map_id"] = row_id_json(id);
    run.summary()["map_id"] = row_id_json(id);
    run.summary()["version"] = version;
}

// Deactivates the active map and inserts the new one active, in the run's
// transaction: there is never a moment without an active map, and a failed
// insert leaves the old one (defect 9).
void activate_map(run_context& run, transaction& tx, streamed const& s,
                  timestamp window_start, nlohmann::json const& weights,
                  nlohmann::json const& posteriors, std::size_t dimensions)
{
    auto& db = run.db();
    auto const weights_text = json_text(weights);
    auto const posteriors_text = json_text(posteriors);
    auto const cross_fit = json_text(cross_fit_json(s, run.cfg().weights));
    // The same run again (cron's and one by hand at one --now): the active
    // map is this one already, and a copy of it would only add a version.
    auto const same = db.exec(same_map_sql, weights_text, posteriors_text, run.now(),
                              window_start, s.rows, cross_fit);
    if (same.rows() > 0) {
        tx.commit();
        record_map(run, same.str(0, 0), same.i64(0, 1));
        run.summary()["unchanged"] = true;
        log::info("the active weight map {} (version {}) was computed at this time "
                  "from the same {} rows: nothing to write",
                  same.str(0, 0), same.str(0, 1), s.rows);
        return;
    }
    db.exec("UPDATE public.learning_model_weights SET is_active = false WHERE is_active");
    auto const r = [&] {
        try {
            return db.exec(insert_map_sql, weights_text, posteriors_text, run.now(),
                           window_start, s.rows, rounded_mean(s.sum_y, s.n_y),
                           rounded_mean(s.sum_fgw, s.n_fgw), cross_fit);
        } catch (db_error const& e) {
            // The only value here that can outgrow its column is the version
            // (an integer column at 2147483647): the stored data's doing.
            if (e.sqlstate() != "22003") { // numeric_value_out_of_range
                throw;
            }
            throw data_error{
                "public.learning_model_weights: the next version, one above the highest, "
                "is out of the range of the column version's type; renumber the maps' "
                "versions or widen the column (ALTER TABLE public.learning_model_weights "
                "ALTER COLUMN version TYPE bigint); the active map is kept"};
        }
    }();
    run.check_interrupted(); // a signal before the commit: nothing is kept
    tx.commit();
    run.rows_out = 1;
    record_map(run, r.str(0, 0), r.i64(0, 1));
    log::info("weight map {} (version {}) from {} rows over {} dimensions is now active",
              r.str(0, 0), r.str(0, 1), s.rows, dimensions);
}

// The zone whose local hour is a post's post_hour, for the transaction;
// refused, named with its key, when PostgreSQL does not know it.
void set_post_hour_zone(run_context& run)
{
    auto const zone = post_hour_zone(run.cfg());
    require_time_zone(run.db(), zone,
                      key_place(run.cfg(), run.cfg().weights.timezone.empty()
                                               ? "plan.timezone"
                                               : "weights.timezone"));
    if (auto const w = post_hour_zone_warning(run.cfg()); !w.empty()) {
        log::warn("{}", w);
    }
    set_local_settings(run.db(), {{"xloop.tz", zone}});
}

} // namespace

void run_build_weights(run_context& run)
{
    auto const& cfg = run.cfg().weights;
    auto& db = run.db();
    transaction tx{db};
    // Transaction-scoped: safe behind a transaction-mode pooler.
    if (!run.dry_run()) {
        run.lock_in_transaction();
    }
    set_post_hour_zone(run);
    auto const window = window_of(run);
    run.summary()["window_days"] = stored_number(window.days);
    run.summary()["half_life_days"] = stored_number(window.half_life_days);
    auto const s = stream_rows(run, window, cfg.dimensions,
                               window_copy_sql(run, window, cfg.dimensions));
    if (!enough_rows(run, s, window)) {
        return;
    }

    // replies' own value (learned_from) is not one plan draws for a post
    auto const map =
        compute_weight_map(s.stats, cfg.kappa, cfg.epsilon, cfg.epsilon_decay_posts,
                           replies_own, engagement_rate_component);
    if (auto const defect = map_defect(map)) {
        throw error{fmt::format("the map computed from {} rows cannot be used: {}; the "
                                "active map is kept",
                                s.rows, *defect)};
    }
    auto const weights = weights_json(map);
    auto const posteriors =
        posteriors_json(map, cfg.kappa, target_weights(cfg.target), s.changed);
    for (auto const& [dim, c] : s.changed) {
        log::info(
            "{}: its values rank otherwise in the last {} days than before (χ² {:.1f} "
            "over {} values, above {:.1f}): learned from those days only",
            dim, c.days, c.test.statistic, c.test.values, c.test.threshold);
        run.summary()["changed"].push_back(dim);
    }
    run.summary()["sample_size"] = s.rows;
    run.summary()["cross_fit_rows"] = s.without_rows;
    run.summary()["weights"] = weights;
    run.summary()["posteriors"] = posteriors;
    run.detail()["sample_size"] = s.rows;

    if (run.dry_run()) {
        log::info("dry run: a map from {} rows over {} dimensions (not written)", s.rows,
                  map.size());
        log_leaders(weights);
        return;
    }
    activate_map(run, tx, s, run.now() - fractional_days(window.days), weights,
                 posteriors, map.size());
    log_leaders(weights);
}

} // namespace xloop
