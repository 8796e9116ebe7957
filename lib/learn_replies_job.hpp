#pragma once

// xloop-learn-replies: reply priorities per account from the window's replies.

namespace xloop {

class run_context;

void run_learn_replies(run_context& run);

} // namespace xloop
