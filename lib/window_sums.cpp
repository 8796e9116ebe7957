#include "window_sums.hpp"

#include "app.hpp"
#include "canonical.hpp"
#include "config.hpp"
#include "copy_row.hpp"
#include "db.hpp"
#include "learning_target.hpp"
#include "learning_target_db.hpp"
#include "netting.hpp"
#include "reply_opportunity.hpp"
#include "row_id.hpp"
#include "sampling.hpp"
#include "view_hash.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <set>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

namespace xloop {

namespace {

constexpr std::size_t first_dim = 3 + component_columns;

// n zero-filled T's from calloc: the kernel maps its zero pages in only
// where they are written (with a few hundred accounts most of the 8192
// reply strata stay untouched), where a vector's value-initialisation
// writes every page (10 MB of strata and pair tables: a third of a run over
// a simulated month's posts).
template <typename T>
class zeroed_array {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

public:
    zeroed_array() = default;
    explicit zeroed_array(std::size_t n)
        : m_items(static_cast<T*>(std::calloc(n, sizeof(T))))
    {
        if (!m_items) {
            throw std::bad_alloc{};
        }
    }
    bool empty() const { return !m_items; }
    T& operator[](std::size_t i) { return m_items.get()[i]; }
    T const& operator[](std::size_t i) const { return m_items.get()[i]; }

private:
    struct release {
        void operator()(T* p) const { std::free(p); }
    };
    std::unique_ptr<T, release> m_items;
};

// Replies by the account they answered, hashed into a fixed number of strata
// (memory flat in the number of accounts; below a few hundred accounts nearly
// every account has a stratum of its own): replies' own value takes part in
// the change test as each account's replies against its own earlier ones
// (matched_change), so learn-replies choosing other accounts is not a change
// of the account's level.
class reply_strata {
public:
    static constexpr std::size_t count = 8192;

    void add(std::string_view account, double w, outcome_components const& x)
    {
        if (m_sums.empty()) {
            m_sums = zeroed_array<target_mean_sums>{count};
        }
        auto const i = author_key(account) % count;
        if (m_sums[i].rows() == 0) {
            m_used.push_back(i);
        }
        m_sums[i].add(w, x);
    }
    bool empty() const { return m_sums.empty(); }
    // the strata with rows, in the order first added to
    std::vector<std::size_t> const& used() const { return m_used; }
    target_mean_sums const* at(std::size_t i) const
    {
        return m_sums.empty() ? nullptr : &m_sums[i];
    }

private:
    zeroed_array<target_mean_sums> m_sums;
    std::vector<std::size_t> m_used;
};

// The matched change of replies between the periods, over the halves given;
// nothing without replies.
std::optional<value_change>
replies_change(std::vector<reply_strata const*> const& recent,
               std::vector<reply_strata const*> const& older, target_scales const& scales,
               std::array<double, target_component_count> const& c)
{
    bool const any = std::any_of(recent.begin(), recent.end(),
                                 [](auto const* r) { return !r->empty(); }) &&
                     std::any_of(older.begin(), older.end(),
                                 [](auto const* o) { return !o->empty(); });
    if (!any) {
        return std::nullopt;
    }
    auto const merged = [&](std::vector<reply_strata const*> const& halves,
                            std::size_t i) {
        target_mean_sums m;
        for (auto const* h : halves) {
            if (auto const* t = h->at(i)) {
                m.merge(*t);
            }
        }
        return m;
    };
    // strata without rows on both sides weigh nothing (matched_change):
    // those of the recent side, in stratum order
    std::vector<char> seen(reply_strata::count);
    std::vector<std::size_t> strata;
    for (auto const* r : recent) {
        for (auto const i : r->used()) {
            if (!seen[i]) {
                seen[i] = 1;
                strata.push_back(i);
            }
        }
    }
    std::sort(strata.begin(), strata.end());
    std::vector<std::pair<group_stats, group_stats>> pairs;
    for (auto const i : strata) {
        auto const r = merged(recent, i);
        auto const o = merged(older, i);
        if (r.rows() > 0 && o.rows() > 0) {
            pairs.emplace_back(r.stats(scales, c), o.stats(scales, c));
        }
    }
    return matched_change(pairs);
}

// One value's per-component stats merged into another's.
void merge_parts(std::vector<group_stats>& into, std::vector<group_stats> const& parts)
{
    into.resize(parts.size());
    for (std::size_t k = 0; k < parts.size(); ++k) {
        into[k].merge(parts[k]);
    }
}

// Σw of the rows holding both of two raw values (numbered as they are first
// seen), in a triangular table; past `max_features` raw values (free text in
// a dimension) it is dropped and the values are netted of their periods only.
class pair_weights {
public:
    static constexpr std::size_t max_features = 256;

    std::size_t new_feature() { return m_features++; }
    std::size_t features() const { return m_features; }
    bool overflowed() const { return m_features > max_features; }

    void add(std::vector<std::size_t> const& row, double w)
    {
        if (overflowed()) {
            return;
        }
        if (m_table.empty()) {
            m_table = zeroed_array<double>{max_features * (max_features - 1) / 2};
        }
        for (std::size_t i = 0; i < row.size(); ++i) {
            for (std::size_t j = i + 1; j < row.size(); ++j) {
                m_table[slot(row[i], row[j])] += w;
            }
        }
    }

    // f(a, b, Σw) for each pair with rows
    template <typename F>
    void each(F&& f) const
    {
        if (overflowed() || m_table.empty()) {
            return;
        }
        for (std::size_t a = 0; a < m_features; ++a) {
            for (std::size_t b = a + 1; b < m_features; ++b) {
                if (double const w = m_table[slot(a, b)]; w > 0) {
                    f(a, b, w);
                }
            }
        }
    }

private:
    static std::size_t slot(std::size_t a, std::size_t b)
    {
        if (a > b) {
            std::swap(a, b);
        }
        return b * (b - 1) / 2 + a;
    }
    std::size_t m_features = 0;
    zeroed_array<double> m_table;
};

// Which raw values of each dimension are learned from (max_raw_values).
class value_admission {
public:
    value_admission(std::vector<std::string> const& dimensions,
                    std::map<std::string, std::vector<std::string>> const& catalogue)
        : m_admitted(dimensions.size()), m_catalogue(dimensions.size()),
          m_left_out(dimensions.size(), 0)
    {
        for (std::size_t d = 0; d < dimensions.size(); ++d) {
            if (auto const c = catalogue.find(dimensions[d]); c != catalogue.end()) {
                // plan_catalogue's values are canonical already
                m_catalogue[d].insert(c->second.begin(), c->second.end());
            }
        }
    }

    // Whether a raw value of dimension d is learned from; asked when a
    // group sees it first, and for every row of a value left out.
    bool admit(std::size_t d, std::string_view value)
    {
        if (m_admitted[d].find(value) != m_admitted[d].end()) {
            return true;
        }
        if (m_admitted[d].size() < max_raw_values ||
            m_catalogue[d].contains(canonical_name(value))) {
            m_admitted[d].emplace(value);
            return true;
        }
        ++m_left_out[d];
        return false;
    }

    // Per dimension, the rows whose value was left out.
    std::vector<std::int64_t> const& left_out() const { return m_left_out; }

private:
    std::vector<std::unordered_set<std::string, view_hash, std::equal_to<>>> m_admitted;
    std::vector<std::set<std::string>> m_catalogue;
    std::vector<std::int64_t> m_left_out;
};

// Per dimension, the target's sums of each raw value as the rows have it
// (post_hour: its 24 hours); merged into canonical values at the end.
class raw_groups {
public:
    explicit raw_groups(std::vector<std::string> const& dimensions)
        : m_dimensions(dimensions), m_index(dimensions.size()),
          m_groups(dimensions.size()), m_is_hour(dimensions.size())
    {
        for (std::size_t d = 0; d < dimensions.size(); ++d) {
            m_is_hour[d] = dimensions[d] == "post_hour";
            if (m_is_hour[d]) {
                for (int h = 0; h < 24; ++h) {
                    m_groups[d].push_back(new_group(fmt::format("{:02d}", h)));
                }
            }
        }
    }

    // A row's values, each dimension's at column first_dim + d, posted in
    // `period` (period_of).
    void add(binary_copy_reader const& row, double w, outcome_components const& x,
             std::size_t period, value_admission& admission)
    {
        m_row.clear();
        for (std::size_t d = 0; d < m_dimensions.size(); ++d) {
            auto const col = d + first_dim;
            if (row.is_null(col)) {
                continue; // empty values are left out
            }
            group* g = nullptr;
            if (m_is_hour[d]) {
                g = &m_groups[d][static_cast<std::size_t>(row.int4(col) % 24)];
            } else {
                auto const value = row.text(col);
                auto it = m_index[d].find(value);
                if (it == m_index[d].end()) {
                    if (!admission.admit(d, value)) {
                        continue; // as if empty in this dimension
                    }
                    it = m_index[d].emplace(std::string{value}, m_groups[d].size()).first;
                    m_groups[d].push_back(new_group(std::string{value}));
                }
                g = &m_groups[d][it->second];
            }
            g->add(period, w, x);
            m_row.push_back(g->feature);
        }
        m_pairs.add(m_row, w);
        if (m_periods.size() <= period) {
            m_periods.resize(period + 1);
        }
        m_periods[period].add(w, x);
    }

    // Each component's stats per dimension, canonical value and period.
    void merge_into(std::map<std::string, period_cells>& cells,
                    target_scales const& scales,
                    std::array<double, target_component_count> const& target_c) const
    {
        each_group([&](std::string const& dim, std::string const& name,
                       std::size_t period, target_sums const& t) {
            merge_parts(cells[dim][name][static_cast<int>(period)],
                        t.component_stats(scales, target_c));
        });
    }

    // The target's stats as a whole per dimension and canonical value.
    void merge_into(dimension_stats& stats, target_scales const& scales,
                    std::array<double, target_component_count> const& target_c) const
    {
        each_group([&](std::string const& dim, std::string const& name, std::size_t,
                       target_sums const& t) {
            stats[dim][name].merge(t.stats(scales, target_c));
        });
    }

    // The Σw of the rows holding each pair of values of two dimensions, and
    // the stats of every row per period (net_of_companions).
    void merge_into(companion_cells& c, target_scales const& scales,
                    std::array<double, target_component_count> const& target_c,
                    std::set<std::string> const& dimensions) const
    {
        for (std::size_t p = 0; p < m_periods.size(); ++p) {
            if (m_periods[p].rows() > 0) {
                merge_parts(c.periods[static_cast<int>(p)],
                            m_periods[p].component_stats(scales, target_c));
            }
        }
        if (!has_pairs()) {
            return;
        }
        std::vector<std::optional<value_id>> names(m_pairs.features());
        for (std::size_t d = 0; d < m_dimensions.size(); ++d) {
            for (auto const& g : m_groups[d]) {
                auto name = m_is_hour[d] ? g.value : canonical_name(g.value);
                if (!name.empty() && dimensions.contains(m_dimensions[d])) {
                    names[g.feature] = value_id{m_dimensions[d], std::move(name)};
                }
            }
        }
        m_pairs.each([&](std::size_t a, std::size_t b, double w) {
            if (names[a] && names[b]) {
                auto key = std::minmax(*names[a], *names[b]);
                c.pairs[{key.first, key.second}] += w;
            }
        });
    }

    // Whether the pairs were kept (a bounded number of raw values).
    bool has_pairs() const { return !m_pairs.overflowed(); }

private:
    struct group {
        std::string value;
        std::size_t feature; // its number among every dimension's raw values
        // the periods it has rows in, in order: a free-text value has rows
        // in one or two, and a target_sums is 744 bytes
        std::vector<std::pair<std::size_t, target_sums>> periods;

        void add(std::size_t period, double w, outcome_components const& x)
        {
            auto it = std::lower_bound(
                periods.begin(), periods.end(), period,
                [](auto const& e, std::size_t p) { return e.first < p; });
            if (it == periods.end() || it->first != period) {
                it = periods.insert(it, {period, target_sums{}});
            }
            it->second.add(w, x);
        }
    };

    template <typename F>
    void each_group(F&& f) const
    {
        for (std::size_t d = 0; d < m_dimensions.size(); ++d) {
            for (auto const& g : m_groups[d]) {
                auto const name = m_is_hour[d] ? g.value : canonical_name(g.value);
                if (name.empty()) {
                    continue;
                }
                for (auto const& [period, sums] : g.periods) {
                    f(m_dimensions[d], name, period, sums);
                }
            }
        }
    }
    group new_group(std::string value)
    {
        return {std::move(value), m_pairs.new_feature(), {}};
    }

    std::vector<std::string> const& m_dimensions;
    std::vector<std::unordered_map<std::string, std::size_t, view_hash, std::equal_to<>>>
        m_index;
    std::vector<std::vector<group>> m_groups;
    std::vector<char> m_is_hour;
    pair_weights m_pairs;
    std::vector<target_mean_sums> m_periods;
    std::vector<std::size_t> m_row; // the current row's features
};

// Whether every number of a row is finite: numeric columns hold NaN, and such
// a value counts as missing (read_components and the learning target skip it).
bool all_finite(binary_copy_reader const& row, outcome_components const& x)
{
    bool finite =
        std::isfinite(row.float8(1)) && (row.is_null(2) || std::isfinite(row.float8(2)));
    for (auto const& v : x.x) {
        finite = finite && (!v || std::isfinite(*v));
    }
    return finite;
}

// Rows are compared within weeks of age (net_of_periods): the loop's other
// choices improve as it learns, so a value posted mostly early would look
// worse than it is. At most 17 periods however long the window (memory):
// ages up to the window are at most 16 period lengths.
std::size_t period_of(double age_days, double window_days)
{
    double const length = std::max(7.0, window_days / 16);
    return static_cast<std::size_t>(std::clamp(age_days / length, 0.0, 16.0));
}

// The p of test_change: a false alarm only costs a dimension its older posts.
constexpr double change_p = 0.001;

// Adds the groups' periods and their pairs over `dimensions` to c; false if
// a group dropped its pairs (too many raw values), when none may be used.
bool merge_companions(companion_cells& c, std::vector<raw_groups const*> const& groups,
                      target_scales const& scales,
                      std::array<double, target_component_count> const& target_c,
                      std::set<std::string> const& dimensions)
{
    bool pairs = true;
    for (auto const* g : groups) {
        g->merge_into(c, scales, target_c, dimensions);
        pairs = pairs && g->has_pairs();
    }
    return pairs;
}

// The companion cells of the groups given: `cells`, and the groups' periods
// and pairs over `dimensions`.
companion_cells companions_of(std::map<std::string, period_cells> cells,
                              std::vector<raw_groups const*> const& groups,
                              target_scales const& scales,
                              std::array<double, target_component_count> const& target_c,
                              std::set<std::string> const& dimensions)
{
    companion_cells c;
    if (!merge_companions(c, groups, scales, target_c, dimensions)) {
        c.pairs.clear();
    }
    c.cells = std::move(cells);
    return c;
}

// g with its weighted mean moved to m, its spread around it kept.
group_stats with_mean(group_stats g, double m)
{
    double const within = g.sum_wy2 - g.sum_wy * g.sum_wy / g.sum_w;
    g.sum_wy = m * g.sum_w;
    g.sum_wy2 = within + m * m * g.sum_w;
    return g;
}

// Rows are kept apart in bands of age weights.change_window_days long (the
// oldest holds the rest of the window), and the change test tries each split
// between bands: a change found in the last 7 days is still found, and
// learned from the days since it, when it is 40 days old (a test of the
// last 14 days alone lost it again, once the older side held as many of
// its days). At most four bands however long the window (memory: 24 → 35
// MiB at 10⁶ rows, reply strata of each).
constexpr std::size_t max_bands = 4;

std::size_t band_count(double window_days, double change_window_days)
{
    if (!(change_window_days > 0)) {
        return 1;
    }
    return static_cast<std::size_t>(
        std::clamp(std::ceil(window_days / change_window_days), 1.0,
                   static_cast<double>(max_bands)));
}

std::size_t band_of(double age_days, double change_window_days, std::size_t bands)
{
    if (!(change_window_days > 0)) {
        return bands - 1;
    }
    return static_cast<std::size_t>(std::clamp(std::floor(age_days / change_window_days),
                                               0.0, static_cast<double>(bands - 1)));
}

// The elements of bands [from, to), flattened.
template <typename T>
std::vector<T const*> bands_of(std::vector<std::vector<T const*>> const& bands,
                               std::size_t from, std::size_t to)
{
    std::vector<T const*> out;
    for (std::size_t b = from; b < to; ++b) {
        out.insert(out.end(), bands[b].begin(), bands[b].end());
    }
    return out;
}

// The window's rows in bands of age (0 the newest), as raw groups and reply
// strata per band (of the folds taken), and what the change test and the
// map need of any range of bands.
class banded_rows {
public:
    using range = std::pair<std::size_t, std::size_t>; // bands [first, second)

    banded_rows(std::vector<std::vector<raw_groups const*>> bands,
                std::vector<std::vector<reply_strata const*>> replies,
                target_scales const& scales,
                std::array<double, target_component_count> const& target_c, double kappa)
        : m_bands(std::move(bands)), m_replies(std::move(replies)), m_scales(scales),
          m_target_c(target_c), m_kappa(kappa)
    {}

    std::size_t count() const { return m_bands.size(); }

    std::map<std::string, period_cells> cells(range r) const
    {
        std::map<std::string, period_cells> out;
        for (auto const* g : bands_of(m_bands, r.first, r.second)) {
            g->merge_into(out, m_scales, m_target_c);
        }
        return out;
    }

    // Per dimension and split j of bands [0, to): the test of [0, j) against
    // [j, to), p shared among the to − 1 splits. Each value's mean in each
    // period net of its companions, as the whole window's joint fit has
    // their effects: the loop's other choices improve as it learns, and a
    // value it draws less now has its recent posts among weaker companions
    // than the values it draws more (raw means called 20-35 % of a
    // stationary world's maps changed). Net of one fit, not of each
    // period's own: β centred on each period's companions would make the
    // posts' level rise against replies', which have none.
    std::map<std::string, std::map<range, change_test>> tests() const
    {
        auto const whole = cells({0, count()});
        std::set<std::string> dims;
        for (auto const& [dim, values] : whole) {
            dims.insert(dim);
        }
        auto const fit = companions_of(whole, bands_of(m_bands, 0, count()), m_scales,
                                       m_target_c, dims);
        // each side of every split, once
        std::map<range, std::size_t> part_of;
        std::vector<companion_cells> ranges;
        auto const add = [&](range side) {
            if (!part_of.contains(side)) {
                part_of[side] = ranges.size();
                ranges.push_back(companions_of(cells(side),
                                               bands_of(m_bands, side.first, side.second),
                                               m_scales, m_target_c, dims));
            }
        };
        for (std::size_t to = 2; to <= count(); ++to) {
            for (std::size_t j = 1; j < to; ++j) {
                add({0, j});
                add({j, to});
            }
        }
        std::vector<companion_cells const*> rows;
        for (auto const& c : ranges) {
            rows.push_back(&c);
        }
        auto const parts = companions_part(fit, rows, m_kappa, replies_own);
        std::map<std::string, std::map<range, change_test>> out;
        for (std::size_t to = 2; to <= count(); ++to) {
            double const p = change_p / static_cast<double>(to - 1);
            for (std::size_t j = 1; j < to; ++j) {
                for (auto& [dim, t] : split_tests(j, to, parts[part_of.at({0, j})],
                                                  parts[part_of.at({j, to})], p)) {
                    out[dim][{j, to}] = t;
                }
            }
        }
        return out;
    }

    // Each dimension's stats from bands [0, last_band(dim)), net of their
    // periods and companions (the pairs of values of each band between the
    // dimensions learned from it).
    template <typename F>
    component_stats learned(F&& last_band) const
    {
        auto const whole = cells({0, count()});
        companion_cells c;
        bool pairs = true;
        for (std::size_t b = 0; b < count(); ++b) {
            std::set<std::string> from_band;
            for (auto const& [dim, values] : whole) {
                if (b < last_band(dim)) {
                    from_band.insert(dim);
                }
            }
            pairs =
                merge_companions(c, m_bands[b], m_scales, m_target_c, from_band) && pairs;
        }
        if (!pairs) {
            c.pairs.clear();
        }
        for (auto const& [dim, values] : whole) {
            auto const k = last_band(dim);
            if (k == count()) {
                c.cells[dim] = values;
            } else if (auto recent = cells({0, k}); recent.contains(dim)) {
                c.cells[dim] = std::move(recent[dim]);
            }
        }
        return net_of_companions(c, m_kappa, replies_own);
    }

private:
    using parts_map = std::map<std::string, std::map<std::string, std::vector<double>>>;

    dimension_stats means(range r) const
    {
        dimension_stats y;
        for (auto const* g : bands_of(m_bands, r.first, r.second)) {
            g->merge_into(y, m_scales, m_target_c);
        }
        return y;
    }

    // g's mean less its companions' part in those rows (companions_part)
    static group_stats netted(parts_map const& part, std::string const& dim,
                              std::string const& value, group_stats const& g)
    {
        auto const d = part.find(dim);
        if (g.sum_w <= 0 || d == part.end() || !d->second.contains(value)) {
            return g;
        }
        double m = g.weighted_mean();
        for (double const k : d->second.at(value)) {
            m -= k;
        }
        return with_mean(g, m);
    }

    // Every dimension's test of bands [0, j) against [j, to).
    std::map<std::string, change_test> split_tests(std::size_t j, std::size_t to,
                                                   parts_map const& recent_part,
                                                   parts_map const& older_part,
                                                   double p) const
    {
        auto const recent_y = means({0, j});
        auto older_y = means({j, to});
        auto const moved = replies_change(
            bands_of(m_replies, 0, j), bands_of(m_replies, j, to), m_scales, m_target_c);
        std::map<std::string, change_test> out;
        for (auto const& [dim, values] : recent_y) {
            std::vector<std::pair<group_stats, group_stats>> pairs;
            std::vector<std::optional<value_change>> matched;
            for (auto const& [value, g] : values) {
                auto const o = older_y[dim].find(value);
                pairs.emplace_back(netted(recent_part, dim, value, g),
                                   o == older_y[dim].end()
                                       ? group_stats{}
                                       : netted(older_part, dim, value, o->second));
                matched.push_back(replies_own.contains(value) ? moved : std::nullopt);
            }
            out[dim] = test_change(pairs, p, matched);
        }
        return out;
    }

    std::vector<std::vector<raw_groups const*>> m_bands;
    std::vector<std::vector<reply_strata const*>> m_replies;
    target_scales const& m_scales;
    std::array<double, target_component_count> const& m_target_c;
    double m_kappa;
};

// Per dimension, the stats learned from: all rows, or only the newest bands
// where its values rank otherwise than before (segment_change over the
// tests of every split); such dimensions go into `changed`. Each value's
// stats net of the week its rows were posted in (net_of_periods; replies
// take part: leaving them out of the weeks' levels lost 2.5 points in subtle).
component_stats choose_periods(banded_rows const& rows, double band_days,
                               std::map<std::string, found_change>& changed)
{
    std::map<std::string, std::size_t> split_of;
    for (auto const& [dim, t] : rows.tests()) {
        if (auto const found = segment_change(t, rows.count())) {
            changed[dim] = {found->test, band_days * static_cast<double>(found->bands)};
            split_of[dim] = found->bands;
        }
    }
    return rows.learned([&](std::string const& dim) {
        auto const s = split_of.find(dim);
        return s == split_of.end() ? rows.count() : s->second;
    });
}

// The window's rows as they stream by: per band of age and half of the
// posts, each raw value's sums and each reply account's (memory grows with
// distinct values, not with rows); the target's components are standardised
// over the same rows, in the same pass: each group keeps sums from which its
// target's moments follow once the scales are known (target_sums).
class window_sums {
public:
    window_sums(run_context& run, learning_window const& window,
                std::vector<std::string> const& dimensions)
        : m_run(run), m_target_c(target_weights(run.cfg().weights.target)),
          m_change_window(run.cfg().weights.change_window_days),
          m_bands(band_count(window.days, m_change_window)), m_window_days(window.days),
          m_half_life(window.half_life_days),
          m_now_micros(run.now().time_since_epoch().count()),
          m_columns(dimensions.size() + first_dim + 1), m_replies(m_bands * 2),
          m_dimensions(dimensions),
          m_admission(dimensions, plan_catalogue(run.cfg().plan))
    {
        // groups[band * 2 + fold]: rows in bands of age (band_of) apart, so
        // that a dimension whose values rank differently in the recent ones
        // can be learned from those alone (choose_periods); and each half of
        // the posts (cross_fit_fold) apart, for the maps validate values them
        // with.
        m_groups.reserve(m_bands * 2);
        for (std::size_t i = 0; i < m_bands * 2; ++i) {
            m_groups.emplace_back(dimensions);
        }
    }

    void add(binary_copy_reader const& row)
    {
        if (row.size() != m_columns || row.is_null(0) || row.is_null(1)) {
            return;
        }
        auto const x = read_components(row, 3);
        m_s.non_finite += all_finite(row, x) ? 0 : 1;
        m_scales.add(x);
        if (!has_target_component(x, m_target_c)) {
            return;
        }
        ++m_s.rows;
        if (std::isfinite(row.float8(1))) {
            m_s.sum_y += row.float8(1);
            ++m_s.n_y;
        }
        if (!row.is_null(2) && std::isfinite(row.float8(2))) {
            m_s.sum_fgw += row.float8(2);
            ++m_s.n_fgw;
        }
        auto const posted = row.timestamptz_unix_micros(0);
        int const fold = cross_fit_fold(posted);
        ++m_fold_rows[fold];
        double const age = age_days(m_now_micros, posted);
        double const w = recency_weight(age, m_half_life);
        auto const at = band_of(age, m_change_window, m_bands) * 2 + fold;
        m_groups[at].add(row, w, x, period_of(age, m_window_days), m_admission);
        if (auto const account = m_columns - 1; !row.is_null(account)) {
            m_replies[at].add(row.text(account), w, x);
        }
        if ((m_s.rows & 0xffff) == 0) {
            m_run.check_interrupted();
        }
    }

    // The canonical values' stats of both halves together and of each half
    // alone, each dimension from the bands choose_periods keeps.
    streamed finish()
    {
        auto const scales = m_scales.scales();
        for (std::size_t d = 0; d < m_dimensions.size(); ++d) {
            if (auto const n = m_admission.left_out()[d]; n > 0) {
                m_s.left_out[m_dimensions[d]] = n;
            }
        }
        m_s.stats = choose_periods(by_band({0, 1}, scales), m_change_window, m_s.changed);
        for (int k = 0; k < 2; ++k) {
            m_s.without[k] = choose_periods(by_band({1 - k}, scales), m_change_window,
                                            m_s.without_changed[k]);
            m_s.without_rows[k] = m_fold_rows[1 - k];
        }
        return std::move(m_s);
    }

private:
    // per band, the groups of the folds given
    banded_rows by_band(std::vector<int> const& folds, target_scales const& scales) const
    {
        std::vector<std::vector<raw_groups const*>> g(m_bands);
        std::vector<std::vector<reply_strata const*>> r(m_bands);
        for (std::size_t b = 0; b < m_bands; ++b) {
            for (int const f : folds) {
                g[b].push_back(&m_groups[b * 2 + f]);
                r[b].push_back(&m_replies[b * 2 + f]);
            }
        }
        return banded_rows{std::move(g), std::move(r), scales, m_target_c,
                           m_run.cfg().weights.kappa};
    }

    run_context& m_run;
    std::array<double, target_component_count> m_target_c;
    double m_change_window;
    std::size_t m_bands;
    double m_window_days;
    double m_half_life;
    std::int64_t m_now_micros;
    std::size_t m_columns;
    scale_sums m_scales;
    std::vector<raw_groups> m_groups;
    std::vector<reply_strata> m_replies;
    std::array<std::int64_t, 2> m_fold_rows{};
    std::vector<std::string> const& m_dimensions;
    value_admission m_admission;
    streamed m_s;
};

} // namespace

streamed stream_rows(run_context& run, learning_window const& window,
                     std::vector<std::string> const& dimensions,
                     std::string const& copy_sql)
{
    window_sums sums{run, window, dimensions};
    binary_copy_reader reader;
    run.db().copy_out(
        copy_sql,
        [&](std::string_view message) {
            reader.feed(message, [&](binary_copy_reader const& row) { sums.add(row); });
        },
        true);
    return sums.finish();
}

} // namespace xloop
