// xloop-validate: says whether the loop is healthy.

#include "app.hpp"
#include "command_line.hpp"
#include "validate_job.hpp"

int main(int argc, char** argv)
{
    xloop::app app{"validate", "Checks the loop: schema and migrations, v2 coverage of "
                               "recent outcomes, content_slot "
                               "coverage, vw_learning rows, the active weight map's age "
                               "and sample, reply priorities, "
                               "and each job's last ok run against its schedule. Each "
                               "check is ok, warn or fail with "
                               "its numbers and what to do. Verdict READY (exit 0) only "
                               "when nothing fails, else NOT "
                               "READY (exit 1). A table on stdout (colour on a "
                               "terminal), --json for CI, --html FILE "
                               "for a self-contained page with charts."};
    xloop::validate_options opts;
    xloop::add_options(app, opts);
    return app.run(argc, argv,
                   [&](xloop::run_context& run) { xloop::run_validate(run, opts); });
}
