#pragma once

// The posting calendar (DESIGN §5.5): which daily times the next post may
// take so that the operator's rate is kept. Pure.

#include "timestamp.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xloop {

// One occurrence of a daily posting time.
struct calendar_slot {
    timestamp at;
    std::string hour; // local "HH", the post_hour value
    std::string day;  // local "YYYY-MM-DD"
};

// The slots the next post may take: on the earliest day (after `last` plus
// `gap`) that still has room for a post, the free times that leave enough
// times, `gap` apart, for the day's remaining posts. With posts_per_day 0 (or
// at least the number of times) every time gets a post, so only the earliest
// qualifies; with fewer, post_hour decides among several, and the day still
// gets its posts_per_day. `posts_on_day` counts posts already on a day.
// `occurrences` sorted by time.
std::vector<calendar_slot>
next_post_slots(std::vector<calendar_slot> const& occurrences,
                std::optional<timestamp> last, std::chrono::minutes gap,
                int posts_per_day, std::size_t times_per_day,
                std::map<std::string, int> const& posts_on_day);

} // namespace xloop
