#pragma once

// xloop-build-weights: streams the window's vw_learning rows with v2 metrics,
// computes the weight map, and makes it the one active map.

namespace xloop {

class run_context;

// A post published this long after its scheduled_at or more (by hand, after
// an outage, a poster that runs seldom) is learned at the hour it went out,
// not the hour of the time plan chose.
constexpr int post_hour_late_minutes = 120;

void run_build_weights(run_context& run);

} // namespace xloop
