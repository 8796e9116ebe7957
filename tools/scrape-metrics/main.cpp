// xloop-scrape-metrics: collects post metrics and follower counts and
// computes the v2 outcome scores.

#include "app.hpp"
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
        "primary_objective_score for every post of the attribution range. Sources: the "
        "X API v2 (token in the variable x_api.token_env) or a JSON Lines file. Commits "
        "batch by batch under a lease on the job (xloop.job_leases, "
        "ledger.lease_minutes): works behind a transaction-mode pooler."};
    xloop::scrape_options opts;
    auto& cli = app.cli();
    auto* source = cli.add_option("--source", opts.source,
                                  "x-api (the default without --input) or file");
    source->check(CLI::IsMember({"x-api", "file"}));
    cli.add_option("--input", opts.input, "File source: JSON Lines file, or - for stdin");
    cli.add_flag(
        "--skip-bad", opts.skip_bad,
        "File source: write the good lines and list the bad ones (default: a bad "
        "line stops the run before anything is written, exit 65)");
    cli.add_option("--max-posts", opts.max_posts, "Cap on posts asked for in one run")
        ->check(CLI::Range(1, 1000000));
    return app.run(argc, argv, [&](xloop::run_context& run) {
        if (opts.input && source->count() == 0) {
            opts.source = "file"; // --input alone means the file source
        }
        if (opts.source == "x-api" && opts.input) {
            throw xloop::usage_error{"--input is for --source file"};
        }
        if (opts.source == "file" && !opts.input) {
            throw xloop::usage_error{"--source file needs --input FILE (or - for stdin)"};
        }
        xloop::run_scrape_metrics(run, opts);
    });
}
