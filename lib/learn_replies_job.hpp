#pragma once

// xloop-learn-replies: reply priorities per account from the window's replies.

#include <cstdint>
#include <string>

namespace xloop {

class run_context;

void run_learn_replies(run_context& run);

// Why nothing is learned from `n` replies of the last `days` days: they name
// no account answered (learn-replies' warning, validate's reply check).
std::string unnamed_replies_text(std::int64_t n, double days);

} // namespace xloop
