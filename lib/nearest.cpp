#include "nearest.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <tuple>

namespace xloop {

std::size_t edit_distance(std::string_view a, std::string_view b)
{
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t const above = row[j];
            row[j] = std::min(
                {row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string nearest_name(std::string const& given, std::vector<std::string> const& names)
{
    std::size_t const limit = given.size() >= 7 ? 3 : 2;
    std::string best;
    // (distance, edits, -common start): "times" for "time", not "time_choice"
    std::tuple<std::size_t, std::size_t, std::ptrdiff_t> best_rank{limit + 1, 0, 0};
    for (auto const& name : names) {
        auto const edits = edit_distance(given, name);
        auto const d =
            name.rfind(given, 0) == 0 ? std::min<std::size_t>(edits, 1) : edits;
        if (d > limit) {
            continue;
        }
        auto const common =
            std::mismatch(given.begin(), given.end(), name.begin(), name.end()).first -
            given.begin();
        std::tuple<std::size_t, std::size_t, std::ptrdiff_t> const rank{d, edits,
                                                                        -common};
        if (rank < best_rank) {
            best = name;
            best_rank = rank;
        }
    }
    return best;
}

std::string did_you_mean(std::vector<std::string> const& names)
{
    return names.empty()
               ? std::string{}
               : fmt::format(" (did you mean '{}'?)", fmt::join(names, "' or '"));
}

std::string nearest_hint(std::string const& given, std::vector<std::string> const& names,
                         std::string const& prefix)
{
    auto const near = nearest_name(given, names);
    return near.empty() ? std::string{} : did_you_mean({prefix + near});
}

} // namespace xloop
