#pragma once

// Numbered schema migrations (sql/NNNN_name.sql): embedded in the binary or
// read from a directory, applied in order, each in its own transaction (when
// adopting the original's content table, the first ones share one), and
// recorded with a checksum in xloop.schema_migrations.

#include "db.hpp"

#include <optional>
#include <string>
#include <vector>

namespace xloop {

struct migration {
    int version = 0;
    std::string name; // "0002_core_tables"
    std::string file; // shown in messages
    std::string sql;
    std::string checksum;      // sha256 hex of the file's bytes
    bool transactional = true; // false: first line is "-- xloop:no-transaction"
    // "-- xloop:valid-checksum HEX" lines: earlier texts of the file that count
    // as applied (an edit that changes nothing where the earlier text ran).
    std::vector<std::string> valid_checksums;
    // "-- xloop:skip-if SELECT …" (one line): a query that returns the reason
    // to record the migration as applied without running it, or no row.
    std::string skip_if;

    // Whether a database that recorded `applied_checksum` ran this migration.
    bool accepts(std::string const& applied_checksum) const;
};

// sql/*.sql as the build embedded them, with their checksums (computed by
// cmake/embed_sql.cmake).
struct embedded_sql_file {
    std::string name; // "0002_core_tables.sql"
    std::string checksum;
    std::string sql;
};
std::vector<embedded_sql_file> embedded_sql_files();

std::vector<migration> embedded_migrations();
std::vector<migration> load_migrations(std::string const& dir);
// `checksum`: the file's sha256 hex when already known (else computed).
migration make_migration(std::string const& file_name, std::string const& shown_as,
                         std::string sql, std::optional<std::string> checksum = {});

enum class migration_state { applied, pending, edited, unknown };
char const* to_string(migration_state s);

struct migration_status {
    int version = 0;
    std::string name;
    migration_state state = migration_state::pending;
    std::optional<std::string> applied_at;
    bool out_of_order = false; // pending, but below the newest applied version
};

// Read-only: what is applied, pending, edited, or applied but unknown here.
std::vector<migration_status> read_status(db_connection& db,
                                          std::vector<migration> const& all);

// read_status of the embedded migrations, counted: what validate's schema
// check and a tool's advice on a missing table say.
struct migration_counts {
    int total = 0; // embedded in this xloop
    int pending = 0;
    int edited = 0;
    std::string first_pending, first_edited; // by name, for the message
    std::vector<std::string> unknown;        // applied by a newer xloop
};
migration_counts migration_states(db_connection& db);

struct apply_options {
    bool allow_out_of_order = false;
    double lock_timeout_s = 60;
    std::optional<int> up_to; // apply versions <= this only
    bool dry_run = false;
};

struct apply_result {
    std::vector<std::string> applied;     // names, in order
    std::vector<std::string> would_apply; // --dry-run
    // What changed (or, with --dry-run, would change), one line per object.
    std::vector<std::string> changes;
};

apply_result apply_migrations(db_connection& db, std::vector<migration> const& all,
                              apply_options const& opts);

} // namespace xloop
