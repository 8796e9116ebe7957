#pragma once

// Each value's stats net of when it was posted and of the other dimensions'
// values posted with it, before build-weights shrinks them (DESIGN §5.3,
// §5.6). Pure.

#include "weighting.hpp"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace xloop {

// A dimension's observations per period of posting (an index: weeks of age,
// say): value → period → one group_stats per component of the target.
using period_cells = std::map<std::string, std::map<int, std::vector<group_stats>>>;

// Each value's stats net of when it was posted. The loop posts better in
// every dimension as it learns, so a value it stopped drawing early has only
// the early, weaker posts of the other dimensions, and looks worse than it is
// (the first value the loop settled on kept the later posts and looked best).
// Per component, y = α_t + β_v + noise is fitted over the cells (least squares
// by alternating means, α weighted to mean 0 over the rows), and each value's
// stats are those of y − α_t: its mean is β_v, compared within periods only.
// Values posted in one period alone are compared against that period's others.
std::map<std::string, std::vector<group_stats>> net_of_periods(period_cells const& cells);

// A value of a dimension: (dimension, value).
using value_id = std::pair<std::string, std::string>;

// What net_of_companions fits: each dimension's cells (as net_of_periods
// takes them), the stats of every row per period and component, and the Σw
// of the rows holding both values of a pair of dimensions (key: the smaller
// value_id first).
struct companion_cells {
    std::map<std::string, period_cells> cells;
    std::map<int, std::vector<group_stats>> periods;
    std::map<std::pair<value_id, value_id>, double> pairs;
};

// Each value's stats net of its period and of the other dimensions' values
// posted with it. The loop draws each dimension on its own, so those are
// noise to a value's mean, not bias: in eight dimensions with effects of
// +20-40 % on a rate with 40 % noise, nearly half a value's spread is its
// companions'. Per component, y = μ + α_t + Σ_d β_d,v + noise is fitted
// by block coordinate descent (α and each dimension's β weighted to mean 0
// over their rows; β with a ridge of `kappa` pseudo-posts, so a value with
// a few rows does not explain away its companions); a value's mean is
//   m_v = (Σw·y − Σ_t W_vt·α_t − Σ_{u of other dimensions} W_vu·β_u) / W_v
// and its spread around it net_of_periods' less its companions' (per
// dimension e, Σ_u W_vu·β_u² − (Σ_u W_vu·β_u)²/W_v). A dimension that depends on one
// fitted before it (Cramér's V of their values above 0.8, values in `apart` left out: a
// structure derived from the decision type) is not fitted, and neither is
// netted of the other. Without pairs: net_of_periods.
std::map<std::string, std::map<std::string, std::vector<group_stats>>>
net_of_companions(companion_cells const& c, double kappa,
                  std::set<std::string> const& apart = {});

// The companions' part of each value's mean in other rows: per set of rows
// given, dimension, value and component, Σ_u W_vu·β_u / W_v, with β the
// joint fit of `fit` (as net_of_companions fits it, the same companions
// taking part) and W_vu, W_v those of the rows (one period's, say). A
// value's mean less this part is its mean as if its companions had been
// the fit's average ones, whatever they were in those rows. Values or
// companions the fit has not seen count nothing; without pairs, empty.
std::vector<std::map<std::string, std::map<std::string, std::vector<double>>>>
companions_part(companion_cells const& fit,
                std::vector<companion_cells const*> const& rows, double kappa,
                std::set<std::string> const& apart = {});

} // namespace xloop
