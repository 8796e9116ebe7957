#pragma once

// Reading the learning target's components (learning_target.hpp) from
// xloop.vw_learning: the scales over a learner's window, and each row's
// components from a binary COPY.

#include "copy_row.hpp"
#include "db.hpp"
#include "learning_target.hpp"

#include <string>

namespace xloop {

// The components as SQL expressions over xloop.vw_learning, in order, each a
// float8, joined by commas: for a COPY's select list.
extern std::string const target_components_sql;

// Mean and sd of each component over the rows `where` selects (an SQL
// condition over xloop.vw_learning, reading its window from the transaction's
// settings): one aggregate query on the server.
target_scales read_target_scales(db_connection& db, std::string const& where);

// The components of a COPY row, from column `first` on.
outcome_components read_components(binary_copy_reader const& row, std::size_t first);

} // namespace xloop
