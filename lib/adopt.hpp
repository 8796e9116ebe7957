#pragma once

// Adopting a database xloop did not create (the original bot's): the
// conversions a migration file cannot make without looking first, and a short
// account of what a migrate run changed, one line per object.

#include "db.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xloop {

// The shape of one relation, as far as the account needs it.
struct relation_shape {
    std::string oid;
    std::string kind; // "table", "view", "materialized view", "index", …
    std::vector<std::string> columns;
    std::string definition; // a view's definition, hashed; empty otherwise
    std::string table;      // an index's table; empty otherwise
};

// Relations of the schemas public and xloop, by "schema.name".
using schema_shape = std::map<std::string, relation_shape>;

schema_shape read_schema_shape(db_connection& db);

// One line per relation that was created, renamed, replaced, dropped or that
// gained columns; unchanged relations give none. Names in public are shown
// without the schema.
std::vector<std::string> describe_changes(schema_shape const& before,
                                          schema_shape const& after);

// How public.content_metadata is found.
enum class content_table_state {
    view_or_absent, // xloop's shape, or nothing yet: nothing to adopt
    table,          // a base table holding the content (a replay of the original)
    table_beside_empty_base, // the same, next to the empty base table an earlier
                             // failed xloop-migrate created
};

// Read-only; throws data_error, naming the object and what to do, when the
// content table cannot be adopted (both tables hold rows, a view is in the way).
content_table_state inspect_content_table(db_connection& db);

// Read-only, one statement; throws data_error, naming every such column of
// the first kind found with the ALTER that fixes it, when an adopted column
// is of a type the tools cannot use: the content table's decision_id and
// outcomes.decision_id of different types (uuid and text: every view and job
// joins them), a tweet id that is no text; a time or count the tools compare
// with times and numbers held as text, seconds or a date; a decision_type or
// status enum of the bot's own without the words xloop writes ('reply',
// 'queued', 'pending', …); a whole-number column the jobs write fractions
// into (outcomes' scores and rates, the map's averages, accounts' priorities).
void check_column_types(db_connection& db);

// A column of the tables those checks read, as the catalogue has it.
struct catalog_column {
    std::string table;
    std::string column;
    std::string type; // format_type: "numeric(10,0)", "character varying(8)"
    std::string base; // its regtype: "numeric", "character varying", an enum's name
    int typmod = -1;
    bool has_default = false;
    std::optional<std::vector<std::string>> enum_labels; // an enum's, in order
};

// The same checks on columns already read: pure.
void check_column_types(std::vector<catalog_column> const& columns);

// Read-only; throws data_error, naming each and how to move it aside, when a
// name xloop keeps a table under is taken by a view, a materialized view or
// another kind of relation, or content_metadata is neither a view nor a table;
// or when outcomes or learning_model_weights is partitioned so that the unique
// index the jobs need cannot be built.
void check_relation_kinds(db_connection& db);

// Refuses (config_error, exit 78) when a table migrate would converge, or an
// object of schema xloop, belongs to a role current_user cannot act as: only
// the owner may alter it. Checked only when a migration is pending.
void check_owner(db_connection& db);

// In the caller's transaction: renames the content_metadata table to
// content_generation_metadata_comprehensive (ids, sequences, constraints,
// grants and rows go with it) and creates the content_metadata view over it
// with the table's former grants and owner. For table_beside_empty_base, drops
// the empty base table first and forgets migration 0002 so that it runs again
// on the adopted table. What it did is logged (debug); the account of the run
// tells it from the schema's change.
void adopt_content_table(db_connection& db, content_table_state state);

// The original's views may have columns xloop's definitions lack (e.g.
// vw_learning's format_strategy, or columns joined from the bot's own tables).
// Such a view is moved aside for the length of a migration transaction and put
// back at its end, so a migration that redefines it never takes a column away.
class kept_views {
public:
    explicit kept_views(db_connection& db);
    kept_views(kept_views const&) = delete;
    kept_views& operator=(kept_views const&) = delete;

    // Puts the views back (dropping xloop's definition where a migration
    // created one meanwhile); one line for each view a migration would have
    // replaced.
    std::vector<std::string> restore();

private:
    struct kept {
        std::string name; // in public
        std::vector<std::string> own_columns;
    };
    db_connection& m_db;
    std::vector<kept> m_kept;
};

} // namespace xloop
