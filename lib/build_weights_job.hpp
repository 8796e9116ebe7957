#pragma once

// xloop-build-weights: streams the window's vw_learning rows with v2 metrics,
// computes the weight map, and makes it the one active map.

namespace xloop {

class run_context;

void run_build_weights(run_context& run);

} // namespace xloop
