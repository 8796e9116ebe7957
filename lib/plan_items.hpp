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
