#pragma once

// How far back scrape-metrics scores outcomes (v2). Every run scores the posts
// of the last metrics.max_age_days and a day, the ones it collects metrics
// for. The first run on a database, or one with --backfill, scores every
// stored outcome as far back as the learners read: the original bot's
// history is then learned from at once, not only its last month.

#include "timestamp.hpp"

#include <optional>

namespace xloop {

class db_connection;
struct config;

// The days back the learners read: learn-replies' replies.window_days, and
// build-weights' weights.window_days stretched (up to max_window_days) to
// hold weights.window_posts posts; `reach_days` is the age of the oldest of
// the newest window_posts posts, nullopt without posts.
double learners_reach_days(config const& cfg, std::optional<double> reach_days);

// Whether xloop-scrape-metrics has never run ok on this database, as its
// ledger says (false where the ledger cannot be read: nothing to go by).
bool never_scraped(db_connection& db);

// The start of what the learners read at `now` (learners_reach_days back);
// nullopt where no post has an outcome to score.
std::optional<timestamp> learners_reach_start(db_connection& db, config const& cfg,
                                              timestamp now);

// The posts of what the learners read that are older than every run's range
// and have an outcome without a v2 score (NULL, or NaN): stored by a program
// that does not score (the original bot), never scored since (an operator who adopted it
// with an xloop older than the backfill). `--backfill` scores them.
struct unscored_history {
    std::int64_t posts = 0;
    timestamp from; // the learners' reach
    timestamp to;   // where every run's range starts
};
std::optional<unscored_history> unscored_in_reach(db_connection& db, config const& cfg,
                                                  timestamp now);

} // namespace xloop
