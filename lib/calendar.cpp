#include "calendar.hpp"

#include "sampling.hpp"

#include <algorithm>
#include <limits>

namespace xloop {

post_day next_post_day(std::vector<calendar_slot> const& occurrences,
                       std::optional<calendar_time> last, std::chrono::minutes gap,
                       int posts_per_day, std::size_t times_per_day,
                       std::map<std::string, int> const& posts_on_day)
{
    int const per_day = posts_per_day > 0
                            ? std::min(posts_per_day, static_cast<int>(times_per_day))
                            : static_cast<int>(times_per_day);
    post_day out;
    for (auto const& s : occurrences) {
        // strictly after: with no gap, the last post's own time is not free
        if (last && (s.at <= last->at || s.clock < last->clock + gap)) {
            continue;
        }
        if (!out.slots.empty() && s.day != out.slots.front().day) {
            if (out.room > 0) {
                break;
            }
            out.slots.clear();
        }
        if (out.slots.empty()) {
            auto const it = posts_on_day.find(s.day);
            out.room = per_day - (it == posts_on_day.end() ? 0 : it->second);
        }
        out.slots.push_back(s);
    }
    if (out.room <= 0) {
        return {};
    }
    return out;
}

std::vector<std::size_t> best_times(std::vector<calendar_slot> const& slots, int room,
                                    std::chrono::minutes gap,
                                    std::vector<double> const& values)
{
    std::size_t const n = slots.size();
    auto const c_max =
        static_cast<std::size_t>(std::clamp<int>(room, 0, static_cast<int>(n)));
    // after[j]: the first slot at least `gap` after slot j
    std::vector<std::size_t> after(n, n);
    for (std::size_t j = 0; j < n; ++j) {
        for (std::size_t k = j + 1; k < n; ++k) {
            if (slots[k].clock >= slots[j].clock + gap) {
                after[j] = k;
                break;
            }
        }
    }
    // best(j, c): the highest sum of c slots from j on (−∞: c do not fit)
    constexpr double none = -std::numeric_limits<double>::infinity();
    std::vector<double> table((n + 1) * (c_max + 1), none);
    auto best = [&](std::size_t j, std::size_t c) -> double& {
        return table[j * (c_max + 1) + c];
    };
    for (std::size_t j = n + 1; j-- > 0;) {
        best(j, 0) = 0;
        for (std::size_t c = 1; j < n && c <= c_max; ++c) {
            best(j, c) = std::max(best(j + 1, c), best(after[j], c - 1) + values[j]);
        }
    }
    std::size_t c = c_max;
    while (c > 0 && best(0, c) == none) {
        --c;
    }
    std::vector<std::size_t> out;
    for (std::size_t j = 0; j < n && c > 0;) {
        if (best(after[j], c - 1) + values[j] >= best(j + 1, c)) {
            out.push_back(j);
            j = after[j];
            --c;
        } else {
            ++j;
        }
    }
    return out;
}

namespace {

// One draw of the next post's time: Thompson values per time, or random ones.
std::size_t draw_once(post_day const& day, std::chrono::minutes gap,
                      std::vector<normal_belief> const* arms, double epsilon, rng& r)
{
    std::vector<double> values(day.slots.size());
    bool const random = !arms || r.uniform() < epsilon;
    for (std::size_t j = 0; j < values.size(); ++j) {
        values[j] = random ? r.uniform() : (*arms)[j].mean + (*arms)[j].sd * r.normal();
    }
    auto const set = best_times(day.slots, day.room, gap, values);
    return set.empty() ? 0 : set.front();
}

} // namespace

time_draw draw_post_time(post_day const& day, std::chrono::minutes gap,
                         std::vector<normal_belief> const* arms, double epsilon, rng& r,
                         int rounds)
{
    time_draw out;
    out.index = draw_once(day, gap, arms, epsilon, r);
    rng replay{r.next()};
    // the draw made counts as one of the rounds: a rare time is never 0
    int hits = 1;
    for (int i = 0; i < rounds; ++i) {
        hits += draw_once(day, gap, arms, epsilon, replay) == out.index ? 1 : 0;
    }
    out.propensity = static_cast<double>(hits) / (rounds + 1);
    return out;
}

} // namespace xloop
