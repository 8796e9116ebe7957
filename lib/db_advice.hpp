#pragma once

// What an operator can do about a database error a run met: told after the
// server's message (with_advice), decided by its SQLSTATE and what it names.

#include <string>

namespace xloop {

class db_error;
class run_context;

// SQLSTATE 25006 on a write: the wrong server, not a bug (exit 78).
std::string read_only_database(std::string const& job);

// An undefined column, table or xloop function: most likely binaries newer
// than the schema (upgraded, not migrated).
bool schema_older_than_tools(db_error const& d);

// What the operator can do about `d`; empty where xloop knows nothing to add.
std::string advice_for(db_error const& d, run_context* ctx);

// The advice right after the server's message and its SQLSTATE, before the
// detail and the statement: what an operator reads first, and what
// validate's shortened line of a failed run still shows.
std::string with_advice(std::string text, std::string const& sqlstate,
                        std::string const& advice);

} // namespace xloop
