// xloop-plan: decides what to post, when, and whom to reply to.

#include "app.hpp"
#include "command_line.hpp"
#include "plan_job.hpp"

int main(int argc, char** argv)
{
    xloop::app app{
        "plan",
        "Fills the queue up to plan.queue_ahead future items: scheduled_at from the "
        "posting calendar (plan.timezone; a post at each of plan.times, or "
        "plan.posts_per_day of them drawn by post_hour; plan.min_gap_minutes apart), "
        "attributes drawn by Thompson sampling from the active weight map with the "
        "epsilon floor (uniformly without one), text from the writer (plan.writer.kind: "
        "template, command or openai), draws and propensities stored in features. With "
        "--replies N: fills the reply queue up to N replies not yet posted (a second "
        "run adds nothing), replying to fresh pending reply_opportunities ranked by "
        "opportunity_score x (1 + drawn priority), one per author within "
        "plan.reply_author_cooldown_hours, never to the account's own posts or to a "
        "post replied to before. One transaction (pooler-safe)."};
    xloop::plan_options opts;
    xloop::add_options(app, opts);
    return app.run(argc, argv,
                   [&](xloop::run_context& run) { xloop::run_plan(run, opts); });
}
