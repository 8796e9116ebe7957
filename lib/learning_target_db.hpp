#pragma once

// Reading the learning target's components (learning_target.hpp) from
// xloop.vw_learning: each row's components from a binary COPY, and the
// scales over a learner's window in the same COPY; and how far back that
// window reaches.

#include "config.hpp"
#include "copy_row.hpp"
#include "db.hpp"
#include "learning_target.hpp"
#include "timestamp.hpp"
#include "weighting.hpp"

#include <array>
#include <set>
#include <string>
#include <vector>

namespace xloop {

// The columns a row's components take in a COPY: the components, then the
// confidence of its attributed follows (read_components).
inline constexpr std::size_t component_columns = target_component_count + 1;

// The follows attributed to a post, as SQL: followers_gained_weighted is the
// gain × its confidence, so the gain is `fgw` / `confidence` where that is in
// (0, 1), `fgw` where it is NULL or 1 and more, NULL where no interval was
// measured (0 or less).
std::string attributed_gain_sql(std::string const& fgw, std::string const& confidence);

// How the learners read the numeric columns of public.outcomes as float8: a
// cast where the column's type bounds it (numeric(10,6) holds no number a
// double cannot), float8_or_infinite_sql() where it does not (the original's
// engagement_rate is numeric with no precision: 1e400 fits it, and a cast
// would fail the run). Asks the catalogue once; the guard costs a read of
// 10⁶ rows 0.1-0.3 s, so it is paid only where it is needed.
class outcome_reads {
public:
    explicit outcome_reads(db_connection& db);
    // `column` (of public.outcomes, through xloop.vw_learning) as a float8.
    std::string operator()(std::string const& column) const;
    // The target's components as SQL expressions over xloop.vw_learning, in
    // order, each a float8 (attributed follows: the attributed gain, NULL
    // without a measured interval); then their confidence, in [0, 1] (1 where
    // it is not stored).
    std::array<std::string, target_component_count> components() const;
    std::string attributed_confidence() const;
    // The component_columns of a select list: the components, the confidence.
    std::string components_list() const;

private:
    std::set<std::string> m_unbounded;
};

// A leading column of such a COPY: its expression and its type (the scale
// rows hold a NULL of that type).
struct copy_column {
    std::string expression;
    std::string type;
};

// A binary COPY of the `leading` columns and the components of the rows
// `where` selects, preceded by two rows with the components' scales over
// those same rows: NULL leading columns but the second, which is 'avg' then
// 'sd'. One scan of the window instead of two (the rows are kept in a
// tuplestore while the scales are summed). The rows come in that order only
// from a plan without parallel workers, so this turns them off for the
// transaction it is called in; run the COPY in that transaction.
// `scaled`, when given, is a condition on the leading columns (l0, l1, ...)
// that the rows the scales are summed over must also meet: rows streamed to be
// counted, not learned from.
std::string scales_then_rows_copy(db_connection& db,
                                  std::vector<copy_column> const& leading,
                                  std::string const& where,
                                  std::string const& scaled = {});

// Reads one of those two leading rows into `scales` (column `first` on the
// components; `kind` the 'avg' / 'sd' column). Returns false for a data row.
// Both rows read: the scales are complete.
class scale_rows {
public:
    bool read(binary_copy_reader const& row, std::size_t kind, std::size_t first);
    bool complete() const noexcept { return m_avg && m_sd; }
    target_scales scales() const;

private:
    outcome_components m_mean{};
    outcome_components m_spread{};
    bool m_avg = false;
    bool m_sd = false;
};

// The window build-weights learns from at `now`: weights.window_days, or
// further back to hold the account's newest weights.window_posts posts
// (stretch_window). validate values the logged choices over the same posts.
learning_window learning_window_at(db_connection& db, weights_config const& w,
                                   timestamp now);

// The components of a COPY row, from column `first` on (component_columns
// of them).
outcome_components read_components(binary_copy_reader const& row, std::size_t first);

} // namespace xloop
