#pragma once

// Splits a SQL script into statements, honouring quotes, dollar quotes and
// comments, so a failing statement can be reported with its line.

#include <string>
#include <string_view>
#include <vector>

namespace xloop {

struct sql_statement {
    std::string text; // without the terminating ';'
    int line = 1;     // 1-based line in the script where the statement starts
};

std::vector<sql_statement> split_sql(std::string_view script);

// Line of a 1-based character position (as PostgreSQL reports it) inside a
// statement that starts at `statement.line`.
int line_of_position(sql_statement const& statement, int position);

} // namespace xloop
