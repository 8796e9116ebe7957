#pragma once

// xloop-validate's schema check: every table, column, view and index the
// tools need (required_schema()), the migrations applied, the rows row-level
// security hides from the role, the database's encoding.

#include "validate_job.hpp"

namespace xloop {

class db_connection;
struct config;

// The check's result; sets has_as_uuid when xloop.as_uuid exists (the posted
// items' check needs the function).
check_result schema_check(db_connection& db, config const& cfg, bool& has_as_uuid);

// Whether the check found every relation and column the tools read, each of
// a type they can use (a pending migration that adds an index only may still
// fail it).
bool schema_complete(check_result const& schema);

} // namespace xloop
