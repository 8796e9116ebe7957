// xloop-scrape-metrics: collects post metrics and follower counts and
// computes the v2 outcome scores.

#include "app.hpp"
#include "command_line.hpp"
#include "scrape_metrics_job.hpp"

int main(int argc, char** argv)
{
    xloop::app app{
        "scrape-metrics",
        "Takes a follower snapshot, collects the metrics of the posts and replies that "
        "are due (posted within metrics.max_age_days, past an age checkpoint of "
        "metrics.due_ages_hours not yet scraped, oldest first), writes outcomes and the "
        "base table's actual_* columns, then computes engagement rate, follower "
        "attribution, attribution_confidence, followers_gained_weighted and "
        "primary_objective_score for every post of the attribution range (the first run "
        "on a database, or --backfill: every stored outcome as far back as build-weights "
        "and learn-replies read). A reply that names no account (target_username) is "
        "given the author of the post it answers where reply_opportunities has it, or "
        "the account X says it answers. Sources: the "
        "X API v2 (token in the variable x_api.token_env) or a JSON Lines file. Commits "
        "batch by batch under a lease on the job (xloop.job_leases, "
        "ledger.lease_minutes): works behind a transaction-mode pooler."};
    xloop::scrape_options opts;
    xloop::add_options(app, opts);
    return app.run(argc, argv, [&](xloop::run_context& run) {
        xloop::run_scrape_metrics(run, opts);
    });
}
