#pragma once

// The items xloop-plan queues, posts (plan_job.cpp) and replies
// (plan_replies.cpp) alike: their texts, new and storable, and their rows,
// written by one statement per run.

#include "error.hpp"
#include "timestamp.hpp"
#include "writers.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace xloop {

class db_connection;
class run_context;
class rng;

struct config;

// Posts and replies fill a queue each: posts up to plan.queue_ahead,
// replies up to --replies N, so a second run (cron's and one by hand, or
// the same --now twice) adds nothing.
enum class queue_of { posts, replies };

// A queue's items with a time: all of them, and those already past it.
// The ones past their time count too: while the poster is not publishing,
// the queue must not grow by the rate, to be posted all at once when it
// comes back. Those at infinity or after 2199 (another program's "hold")
// are never due: counted apart, or they would fill the queue for good.
struct queue_state {
    std::int64_t queued = 0;
    std::int64_t due = 0;
    std::string oldest_due; // as stored: -infinity and 1850 are due too
    std::int64_t never_due = 0;
    std::string never_due_example;
};

queue_state read_queue(db_connection& db, timestamp now, queue_of kind);

// Says what stands in the queue's way: items that are never due, and a queue
// already full (warned once its oldest is late: the poster is not running).
// Whether there is room for new items under `limit`.
bool report_queue(queue_state const& queue, queue_of kind, std::int64_t limit,
                  config const& cfg, timestamp now);

// The texts a run may not write again: its own, and other programs' of the
// last 30 days as xloop hashes them (64 bits of each hash, sorted: 8 bytes a
// text however many the other wrote). xloop's own stored ones are looked up
// by content_hash as each text is written.
class known_texts {
public:
    explicit known_texts(run_context& run);

    bool contains(std::string const& hash) const;
    void add(std::string const& hash) { m_run.insert(hash); }

private:
    static std::uint64_t key(std::string const& hex_hash);

    std::set<std::string> m_run;
    std::vector<std::uint64_t> m_others;
};

// No acceptable text for these attributes (bad data, exit 65, when it ends a
// run): distinct from a writer that fails, which no redraw of the attributes
// would mend.
struct no_new_text : data_error {
    using data_error::data_error;
};

// Writes the text, asking again when a part is not UTF-8 text PostgreSQL can
// store (a command's bytes, a model's \u0000), is over 280 characters as X
// counts them (tweet_length), or the text was used in the last 30 days (or
// earlier in this run).
std::vector<std::string> write_text(run_context& run, writer& w, writer_request q,
                                    known_texts& known, std::string& hash, rng& r);

// A queue row of the run's (before prepare_items): its parts joined, the
// thread's parts kept, at `scheduled`.
nlohmann::json item_row(std::string const& decision_type,
                        std::vector<std::string> const& parts, std::string const& hash,
                        timestamp scheduled, nlohmann::json features);

// The run's rows into the base table, each with a new decision id ($1 the
// rows as JSON, $2 now); for replies, each opportunity marked taken as well.
extern char const* const insert_items;
extern std::string const insert_replies;

// A queue row's text value, or "" (for the dry run's lines).
std::string text_in(nlohmann::json const& row, char const* key);

// Each queued, by xloop: values insert_items writes as they are.
void mark_queued(nlohmann::json& row);

// The run's rows as insert_items takes them, refused before anything is
// written if a value does not fit its column.
void prepare_items(db_connection& db, nlohmann::json& rows);

} // namespace xloop
