// xloop-learn-replies: learns which accounts are worth replying to.

#include "app.hpp"
#include "learn_replies_job.hpp"

int main(int argc, char** argv)
{
    xloop::app app{
        "learn-replies",
        "Reads the replies of the last replies.window_days with v2 metrics from "
        "vw_learning, groups them by lower-cased target_username (replies to the "
        "account itself, x_api.username, left out), and sets "
        "discovered_accounts.priority_score = Phi((mu_hat - mu0)/s), the probability "
        "that replying to the account beats the average reply, with "
        "reply_performance_score = mu_hat (the shrunk mean of build-weights' learning "
        "target, weights.target) and last_successful_reply_at. Accounts without replies "
        "in the window go back to 0.5; accounts replied to but missing are inserted. No "
        "per-run decay: the same --now gives the same state however often it runs. "
        "--dry-run --json lists the top and bottom accounts. Needs one transaction "
        "(works behind a transaction-mode pooler)."};
    return app.run(argc, argv, xloop::run_learn_replies);
}
