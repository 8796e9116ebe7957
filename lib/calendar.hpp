#pragma once

// The posting calendar (DESIGN §5.5): which daily times the next post may
// take so that the operator's rate is kept, and which of them post_hour
// learning picks. Pure.

#include "normal.hpp"
#include "timestamp.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xloop {

class rng;

// An instant and what the clocks of plan.timezone show then (that wall time
// read as if it were UTC). The gap between posts is counted on the clocks,
// as the operator's times are: 21:00 and 09:00 are 12 hours apart on the
// night the clocks skip an hour too, and neither post is dropped.
struct calendar_time {
    timestamp at;
    timestamp clock;
};

// One occurrence of a daily posting time.
struct calendar_slot : calendar_time {
    std::string hour; // local "HH", the post_hour value
    std::string day;  // local "YYYY-MM-DD"
};

// The earliest day (after `last`, and `gap` after it) that still has room for a post:
// its free times and how many posts it still takes. With posts_per_day 0 (or
// at least the number of times) every time gets a post; with fewer, post_hour
// decides which, and the day still gets its posts_per_day. `posts_on_day`
// counts posts already on a day. `occurrences` sorted by time; no slots when
// none is left.
struct post_day {
    std::vector<calendar_slot> slots;
    int room = 0;
};
post_day next_post_day(std::vector<calendar_slot> const& occurrences,
                       std::optional<calendar_time> last, std::chrono::minutes gap,
                       int posts_per_day, std::size_t times_per_day,
                       std::map<std::string, int> const& posts_on_day);

// Of one day's `slots` (sorted), the `room` whose `values` sum highest with
// every two at least `gap` apart (as many as fit, if fewer do); their indices
// in time order. Ties go to the earlier time.
std::vector<std::size_t> best_times(std::vector<calendar_slot> const& slots, int room,
                                    std::chrono::minutes gap,
                                    std::vector<double> const& values);

// The next post's time: the earliest of the day's best set by one Thompson
// draw per time from `arms` (a set drawn at random with probability ε, or
// always without arms): the day's posts go to the times most likely among its
// best `room`, not only the best one. The propensity, P(this time), is
// estimated from `rounds` more draws.
struct time_draw {
    std::size_t index = 0;
    double propensity = 1;
};
time_draw draw_post_time(post_day const& day, std::chrono::minutes gap,
                         std::vector<normal_belief> const* arms, double epsilon, rng& r,
                         int rounds = 2000);

} // namespace xloop
