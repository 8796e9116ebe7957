#pragma once

// xloop-learn-replies: reply priorities per account from the window's replies.

#include "app.hpp"

namespace xloop {

void run_learn_replies(run_context& run);

} // namespace xloop
