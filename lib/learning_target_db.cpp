#include "learning_target_db.hpp"

#include "stored_values.hpp"

#include <fmt/format.h>

namespace xloop {

namespace {

// A count as the component reads it: a count the source does not give (NULL,
// or a negative one) is missing, never 0. GREATEST ignores NULLs, and
// ln(1 + greatest(follows, 0)) − reach made the X API's absent follows −reach,
// which cancelled reach out of the target.
std::string count(char const* column)
{
    return fmt::format("(1 + CASE WHEN {0} >= 0 THEN {0} END)::float8", column);
}

} // namespace

outcome_reads::outcome_reads(db_connection& db)
{
    // numeric(p, s) holds no number a double cannot when p and s are at most
    // 300; a float or integer type casts without fail. Other types (text in
    // an adopted table) are cast as they always were.
    auto const r = db.exec(R"sql(
SELECT a.attname FROM pg_attribute a
 WHERE a.attrelid = to_regclass('public.outcomes') AND NOT a.attisdropped
   AND a.attname IN ('engagement_rate', 'followers_gained_weighted',
                     'primary_objective_score', 'attribution_confidence')
   AND a.atttypid = 'numeric'::regtype
   AND NOT (a.atttypmod >= 4 AND ((a.atttypmod - 4) >> 16) <= 300
            AND ((a.atttypmod - 4) & 65535) <= 300))sql");
    for (int i = 0; i < r.rows(); ++i) {
        m_unbounded.insert(r.str(i, 0));
    }
}

std::string outcome_reads::operator()(std::string const& column) const
{
    return m_unbounded.contains(column) ? float8_or_infinite_sql(column)
                                        : column + "::float8";
}

std::array<std::string, target_component_count> outcome_reads::components() const
{
    // In target_component_names' order. Clicks and follows per impression:
    // reach is its own component, and its noise (the largest on X) stays out
    // of what a post's content earns from each view.
    // Attributed follows as the gain itself: followers_gained_weighted is
    // gain × confidence, and its confidence is how far it counts.
    auto const fgw = (*this)("followers_gained_weighted");
    auto const confidence = (*this)("attribution_confidence");
    return {(*this)("engagement_rate"),
            fmt::format("ln({})", count("impressions")),
            fmt::format("ln({} / {})", count("profile_clicks"), count("impressions")),
            fmt::format("ln({} / {})", count("follows"), count("impressions")),
            attributed_gain_sql(fgw, confidence),
            (*this)("primary_objective_score")};
}

std::string attributed_gain_sql(std::string const& fgw, std::string const& confidence)
{
    return fmt::format("CASE WHEN {1} IS NULL OR {1} >= 1 THEN {0} "
                       "WHEN {1} > 0 THEN {0} / {1} END",
                       fgw, confidence);
}

std::string outcome_reads::attributed_confidence() const
{
    // not coalesce(): greatest() ignores a NULL, and 0 would leave the gain out
    return fmt::format("CASE WHEN {0} IS NULL THEN 1 ELSE least(greatest({0}, 0), 1) END",
                       (*this)("attribution_confidence"));
}

std::string outcome_reads::components_list() const
{
    std::string out;
    for (auto const& c : components()) {
        out += (out.empty() ? "" : ", ") + c;
    }
    return out + ", " + attributed_confidence();
}

std::string scales_then_rows_copy(db_connection& db,
                                  std::vector<copy_column> const& leading,
                                  std::string const& where, std::string const& scaled)
{
    db.exec("SET LOCAL max_parallel_workers_per_gather = 0");
    std::string select;
    std::string nulls;
    for (std::size_t i = 0; i < leading.size(); ++i) {
        select += fmt::format("{} AS l{}, ", leading[i].expression, i);
        nulls += i == 1 ? "{0}, " : fmt::format("NULL::{}, ", leading[i].type);
    }
    outcome_reads const reads{db};
    auto const component_sql = reads.components();
    std::string aggregates;
    std::string avg;
    std::string sd;
    for (std::size_t k = 0; k < target_component_count; ++k) {
        select += fmt::format("{}{} AS c{}", k ? ", " : "", component_sql[k], k);
        // over the finite values: one NaN or infinity would make the scale
        // NaN, and the component would be left out for every row
        auto const finite = finite_sql(fmt::format("c{}", k));
        aggregates += fmt::format("{0}avg(c{1}) FILTER (WHERE {2}) AS a{1}, "
                                  "stddev_pop(c{1}) FILTER (WHERE {2}) AS s{1}",
                                  k ? ", " : "", k, finite);
        avg += fmt::format("{}a{}", k ? ", " : "", k);
        sd += fmt::format("{}s{}", k ? ", " : "", k);
    }
    select +=
        fmt::format(", {} AS c{}", reads.attributed_confidence(), target_component_count);
    avg += ", NULL::float8";
    sd += ", NULL::float8";
    // The scales in one aggregate over the kept rows (one read of them), as
    // two rows, then the rows.
    return fmt::format(R"sql(COPY (
WITH w AS MATERIALIZED (SELECT {select} FROM xloop.vw_learning WHERE {where}),
s AS (SELECT {aggregates} FROM w{scaled})
SELECT v.* FROM s CROSS JOIN LATERAL (VALUES ({avg_nulls}{avg}), ({sd_nulls}{sd})) v
UNION ALL
SELECT * FROM w) TO STDOUT (FORMAT binary))sql",
                       fmt::arg("select", select), fmt::arg("where", where),
                       fmt::arg("aggregates", aggregates),
                       fmt::arg("scaled", scaled.empty() ? "" : " WHERE " + scaled),
                       fmt::arg("avg_nulls", fmt::format(fmt::runtime(nulls), "'avg'")),
                       fmt::arg("avg", avg),
                       fmt::arg("sd_nulls", fmt::format(fmt::runtime(nulls), "'sd'")),
                       fmt::arg("sd", sd));
}

bool scale_rows::read(binary_copy_reader const& row, std::size_t kind, std::size_t first)
{
    if (row.is_null(kind) || !row.is_null(0)) {
        return false;
    }
    auto const what = row.text(kind);
    bool const is_avg = what == "avg";
    if (!is_avg && what != "sd") {
        return false;
    }
    (is_avg ? m_mean : m_spread) = read_components(row, first);
    (is_avg ? m_avg : m_sd) = true;
    return true;
}

target_scales scale_rows::scales() const
{
    target_scales out;
    for (std::size_t k = 0; k < target_component_count; ++k) {
        if (m_mean[k] && m_spread[k]) {
            out[k] = make_scale(*m_mean[k], *m_spread[k]);
        }
    }
    return out;
}

// The age in days of the oldest of the newest $3 posts (replies not counted)
// that the window could learn from, and a second (the window's start is
// exclusive): NULL without posts. At most $3 rows, newest first; a post at
// -infinity (another program's) has no age.
constexpr char const* reach_sql = R"sql(
SELECT (floor(extract(epoch FROM $1::timestamptz - min(posted_at))) + 1) / 86400
  FROM (SELECT posted_at FROM xloop.vw_learning
         WHERE has_v2_metrics AND decision_type IS DISTINCT FROM 'reply'
           AND posted_at <= $2::timestamptz AND isfinite(posted_at)
         ORDER BY posted_at DESC LIMIT $3) p)sql";

learning_window learning_window_at(db_connection& db, weights_config const& w,
                                   timestamp now)
{
    std::optional<double> reach;
    if (w.window_posts > 0 && w.max_window_days > w.window_days) {
        auto const r = db.exec(reach_sql, now, now - fractional_hours(w.min_age_hours),
                               static_cast<std::int64_t>(w.window_posts));
        if (!r.is_null(0, 0)) {
            reach = r.f64(0, 0);
        }
    }
    return stretch_window(w.window_days, w.half_life_days, w.max_window_days, reach);
}

outcome_components read_components(binary_copy_reader const& row, std::size_t first)
{
    outcome_components x;
    for (std::size_t k = 0; k < target_component_count; ++k) {
        if (!row.is_null(first + k)) {
            x[k] = row.float8(first + k);
        }
    }
    if (auto const c = first + target_component_count; !row.is_null(c)) {
        x.attributed_confidence = row.float8(c);
    }
    return x;
}

} // namespace xloop
