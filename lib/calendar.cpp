#include "calendar.hpp"

#include <algorithm>

namespace xloop {

std::vector<calendar_slot> next_post_slots(std::vector<calendar_slot> const& occurrences,
                                           std::optional<timestamp> last,
                                           std::chrono::minutes gap, int posts_per_day,
                                           std::size_t times_per_day,
                                           std::map<std::string, int> const& posts_on_day)
{
    int const per_day = posts_per_day > 0
                            ? std::min(posts_per_day, static_cast<int>(times_per_day))
                            : static_cast<int>(times_per_day);
    std::vector<calendar_slot> free;
    for (auto const& s : occurrences) {
        if (!last || s.at >= *last + gap) {
            free.push_back(s);
        }
    }
    std::size_t i = 0;
    while (i < free.size()) {
        auto const& day = free[i].day;
        std::size_t end = i;
        while (end < free.size() && free[end].day == day) {
            ++end;
        }
        auto const it = posts_on_day.find(day);
        int const room = per_day - (it == posts_on_day.end() ? 0 : it->second);
        if (room > 0) {
            // How many posts can still follow slot j on this day, gap apart.
            std::vector<calendar_slot> out;
            for (std::size_t j = i; j < end; ++j) {
                int chain = 1;
                timestamp at = free[j].at;
                for (std::size_t k = j + 1; k < end; ++k) {
                    if (free[k].at >= at + gap) {
                        ++chain;
                        at = free[k].at;
                    }
                }
                if (chain >= room) {
                    out.push_back(free[j]);
                }
            }
            if (out.empty()) {
                out.push_back(free[i]); // too few times left: the earliest
            }
            return out;
        }
        i = end;
    }
    return {};
}

} // namespace xloop
