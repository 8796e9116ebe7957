#pragma once

// The schema the loop relies on (DESIGN §3), listed once: validate checks it,
// migrate's adoption compares an existing view with it, the tests use it.

#include <string>
#include <vector>

namespace xloop {

struct required_relation {
    std::string name; // schema-qualified
    std::vector<std::string> columns;
};

// Every relation and column the tools read or write.
std::vector<required_relation> const& required_schema();

// The columns xloop's own definition of the view gives it (xloop.vw_learning
// and, where xloop created it, public.vw_learning).
std::vector<std::string> const& learning_view_columns();

// The columns xloop gives the base table (content_metadata shows them all).
std::vector<std::string> const& content_table_columns();

} // namespace xloop
