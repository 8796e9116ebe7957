// xloop-validate: says whether the loop is healthy.

#include "app.hpp"
#include "command_line.hpp"
#include "validate_job.hpp"

int main(int argc, char** argv)
{
    xloop::app app{
        "validate",
        "Says whether the loop is healthy. Checks: schema and migrations, v2 coverage "
        "of recent outcomes, content_slot coverage, posted items the loop cannot learn "
        "from, the queue, vw_learning rows, the active weight map's age, sample and "
        "writer, reply priorities, reply opportunities coming in, sessions left idle in "
        "a transaction, and each job's last ok run against its schedule; each ok, warn "
        "or fail with its numbers and what to do. Above them: what the active map "
        "learned, and what the loop's choices are worth against uniform draws (from the "
        "propensities plan logged). Verdict READY (exit 0) only when nothing fails, "
        "else NOT READY (exit 1). A table on stdout (colour on a terminal), --json for "
        "CI, --html FILE for a self-contained page with charts, --prometheus FILE for "
        "node_exporter's textfile collector."};
    xloop::validate_options opts;
    xloop::add_options(app, opts);
    return app.run(argc, argv,
                   [&](xloop::run_context& run) { xloop::run_validate(run, opts); });
}
