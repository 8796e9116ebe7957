// xloop-build-weights: learns which content attributes grow the account and
// writes the weight map that xloop-plan draws from.

#include "app.hpp"
#include "build_weights_job.hpp"

int main(int argc, char** argv)
{
    xloop::app app{
        "build-weights",
        "Reads the xloop.vw_learning rows with v2 metrics of the last "
        "weights.window_days (reaching back to hold weights.window_posts posts, at most "
        "weights.max_window_days; posts younger than weights.min_age_hours left out), "
        "computes per dimension and value the recency-weighted, shrunk posterior of the "
        "learning target (weights.target: reach, engagement rate, profile clicks and "
        "follows, each standardised) and the weight (1-eps)*P(best)+eps/K, and writes "
        "it as the one active learning_model_weights row. Fewer than weights.min_posts "
        "rows: a skipped run. --dry-run --json prints the map instead of writing it. "
        "One transaction (works behind a transaction-mode pooler)."};
    return app.run(argc, argv, xloop::run_build_weights);
}
