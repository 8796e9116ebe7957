#include "error.hpp"

#include <algorithm>
#include <iterator>
#include <new>
#include <string_view>

namespace xloop {

bool is_transient_sqlstate(std::string const& s) noexcept
{
    return s.rfind("08", 0) == 0     // connection exception
           || s.rfind("57P", 0) == 0 // admin/crash shutdown, cannot connect now
           || s == "40001"           // serialization_failure
           || s == "40P01"           // deadlock_detected
           || s == "55P03"           // lock_not_available
           || s == "57014"           // query_canceled: statement_timeout, an admin
           // insufficient resources: disk_full, out_of_memory,
           // too_many_connections, configuration_limit_exceeded (a sort past
           // temp_file_limit, a lock table past max_locks_per_transaction)
           || s.rfind("53", 0) == 0;
}

exit_code exit_code_for(std::exception const& e) noexcept
{
    if (dynamic_cast<usage_error const*>(&e)) {
        return exit_code::usage;
    }
    if (dynamic_cast<data_error const*>(&e)) {
        return exit_code::data;
    }
    if (dynamic_cast<service_refused const*>(&e)) {
        return exit_code::unavailable;
    }
    if (dynamic_cast<temporary_failure const*>(&e)) {
        return exit_code::temporary;
    }
    if (dynamic_cast<config_error const*>(&e)) {
        return exit_code::config;
    }
    if (dynamic_cast<std::bad_alloc const*>(&e)) {
        return exit_code::temporary; // the machine's memory, not the run's fault
    }
    if (auto const* d = dynamic_cast<db_error const*>(&e)) {
        if (refused_by_statement_pooler(*d)) {
            return exit_code::config; // not temporary: cron would retry it forever
        }
        if (d->sqlstate() == "42501" || d->sqlstate() == "25006") {
            // the role lacks a grant (share/roles.sql); a read-only database
            return exit_code::config;
        }
        if (is_rejected_row_sqlstate(d->sqlstate())) {
            return exit_code::data;
        }
        if (!is_transient_sqlstate(d->sqlstate()) &&
            !foreign_function_frame(*d).empty()) {
            return exit_code::config; // the database's own code: its owner's to fix
        }
        return is_transient_sqlstate(d->sqlstate()) ? exit_code::temporary
                                                    : exit_code::software;
    }
    return exit_code::software;
}

std::string foreign_function_frame(db_error const& e)
{
    // xloop's functions (sql/), schema-qualified unless a search_path holds
    // the schema xloop
    static constexpr std::string_view ours[] = {
        "alter_column_type", "as_uuid",      "follower_snapshots_sync_time",
        "has_unique_index",  "replace_view", "restore_grants",
        "view_blockers",     "view_extras"};
    std::string_view rest = e.context();
    while (!rest.empty()) {
        auto const nl = rest.find('\n');
        auto const line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        std::string_view name;
        for (std::string_view const lead : {"PL/pgSQL function ", "SQL function \""}) {
            if (line.substr(0, lead.size()) == lead) {
                name = line.substr(lead.size());
                name = name.substr(0, name.find_first_of("(\""));
            }
        }
        // a DO block is the client's: a migration's
        if (name.empty() || name.substr(0, 6) == "xloop." ||
            name.substr(0, 17) == "inline_code_block" ||
            std::find(std::begin(ours), std::end(ours), name) != std::end(ours)) {
            continue;
        }
        return std::string{line};
    }
    return {};
}

bool refused_by_statement_pooler(db_error const& e)
{
    return std::string_view{e.what()}.find(
               "transaction blocks not allowed in statement pooling mode") !=
           std::string_view::npos;
}

bool is_rejected_row_sqlstate(std::string const& s) noexcept
{
    return s == "22001"     // string_data_right_truncation: varchar(n)
           || s == "22P05"  // untranslatable_character: a LATIN1 database
           || s == "23502"  // not_null_violation
           || s == "23503"  // foreign_key_violation
           || s == "23514"; // check_violation
}

} // namespace xloop
