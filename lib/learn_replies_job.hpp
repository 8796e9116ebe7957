#pragma once

// xloop-learn-replies: reply priorities per account from the window's replies.

#include "timestamp.hpp"

#include <cstdint>
#include <string>

namespace xloop {

class db_connection;
class run_context;
struct replies_config;

void run_learn_replies(run_context& run);

// How many replies of the window learn-replies reads (replies.window_days,
// at least replies.min_age_hours old, with v2 metrics) name no account
// answered: asked when none could be learned from, to say why.
std::int64_t unnamed_replies(db_connection& db, timestamp now, replies_config const& cfg);

// Why nothing is learned from `n` replies of the last `days` days: they name
// no account answered (learn-replies' warning, validate's reply check).
std::string unnamed_replies_text(std::int64_t n, double days);

} // namespace xloop
