#include "error.hpp"
#include "migrations.hpp"
#include "sql_split.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

using namespace xloop;

TEST_CASE("SQL splits on semicolons outside quotes, dollar quotes and comments", "[nodb]")
{
    auto const s =
        split_sql("-- header; not a statement\n"
                  "CREATE TABLE a (x text DEFAULT 'a;b''c');\n"
                  "\n"
                  "DO $$ BEGIN PERFORM 1; END $$;\n"
                  "/* block; /* nested; */ still comment */ SELECT \"we;ird\";\n"
                  "SELECT E'back\\'slash;', $tag$ $$ ; $tag$, $1;\n"
                  "SELECT 'no terminator'");
    REQUIRE(s.size() == 5);
    CHECK(s[0].text == "CREATE TABLE a (x text DEFAULT 'a;b''c')");
    CHECK(s[0].line == 2);
    CHECK(s[1].text == "DO $$ BEGIN PERFORM 1; END $$");
    CHECK(s[1].line == 4);
    CHECK(s[2].text == "SELECT \"we;ird\"");
    CHECK(s[2].line == 5);
    CHECK(s[3].text == "SELECT E'back\\'slash;', $tag$ $$ ; $tag$, $1");
    CHECK(s[3].line == 6);
    CHECK(s[4].text == "SELECT 'no terminator'");
    CHECK(s[4].line == 7);
}

TEST_CASE("a script of only comments has no statements", "[nodb]")
{
    CHECK(split_sql("-- xloop:no-transaction\n/* nothing */\n;\n").empty());
}

TEST_CASE("an error position maps to the line inside a statement", "[nodb]")
{
    sql_statement const st{"INSERT INTO t\n  VALUES ('é',\n 'x')", 10};
    CHECK(line_of_position(st, 1) == 10);
    CHECK(line_of_position(st, 14) == 10); // the newline ending line 10
    CHECK(line_of_position(st, 15) == 11);
    // 'é' is two bytes but one character, as PostgreSQL counts
    CHECK(line_of_position(st, 30) == 12);
}

TEST_CASE("each exception type maps to its exit code", "[nodb]")
{
    CHECK(exit_code_for(usage_error{"x"}) == exit_code::usage);
    CHECK(exit_code_for(data_error{"x"}) == exit_code::data);
    CHECK(exit_code_for(service_refused{"x"}) == exit_code::unavailable);
    CHECK(exit_code_for(temporary_failure{"x"}) == exit_code::temporary);
    CHECK(exit_code_for(lock_held{"x"}) == exit_code::temporary);
    CHECK(exit_code_for(config_error{"x"}) == exit_code::config);
    CHECK(exit_code_for(std::bad_alloc{}) == exit_code::temporary); // out of memory
    CHECK(exit_code_for(db_error{"x", "08006"}) == exit_code::temporary);
    CHECK(exit_code_for(db_error{"x", "40001"}) == exit_code::temporary);
    CHECK(exit_code_for(db_error{"x", "42P01"}) == exit_code::software);
    CHECK(exit_code_for(db_error{"x", "42501"}) == exit_code::config); // no grant
    CHECK(exit_code_for(db_error{"x", "25006"}) == exit_code::config); // read-only
    // a row an adopted table's own rules reject: its shape, not a bug
    CHECK(exit_code_for(db_error{"x", "22001"}) == exit_code::data);     // varchar(n)
    CHECK(exit_code_for(db_error{"x", "23502"}) == exit_code::data);     // NOT NULL
    CHECK(exit_code_for(db_error{"x", "23514"}) == exit_code::data);     // CHECK
    CHECK(exit_code_for(db_error{"x", "23505"}) == exit_code::software); // unique: ours
    CHECK(exit_code_for(std::runtime_error{"x"}) == exit_code::software);
}

TEST_CASE("an error in a trigger or function of the database's own is its owner's to "
          "fix (exit 78), one in xloop's is not",
          "[nodb]")
{
    auto const in = [](std::string sqlstate, std::string context) {
        return db_error{"x", std::move(sqlstate), 0, {}, {}, std::move(context)};
    };
    auto const theirs = in("42883", "SQL statement \"SELECT public.audit_log(NEW.id)\"\n"
                                    "PL/pgSQL function bot_audit() line 3 at PERFORM");
    CHECK(foreign_function_frame(theirs) ==
          "PL/pgSQL function bot_audit() line 3 at PERFORM");
    CHECK(exit_code_for(theirs) == exit_code::config);
    CHECK(foreign_function_frame(in("P0001", "SQL function \"check_it\" statement 1")) ==
          "SQL function \"check_it\" statement 1");
    // xloop's own, qualified or (a search_path holding xloop) not
    for (auto const* ours :
         {"PL/pgSQL function xloop.follower_snapshots_sync_time() line 4 at assignment",
          "PL/pgSQL function follower_snapshots_sync_time() line 4 at assignment",
          "SQL function \"as_uuid\" statement 1",
          "PL/pgSQL function inline_code_block line 12 at RAISE", ""}) {
        CHECK(foreign_function_frame(in("22P02", ours)).empty());
        CHECK(exit_code_for(in("22P02", ours)) == exit_code::software);
    }
    // every function the migrations create is known as xloop's, unqualified too
    std::regex const created{R"(FUNCTION\s+xloop\.([a-z_]+)\s*\()"};
    int functions = 0;
    for (auto const& file : embedded_sql_files()) {
        for (std::sregex_iterator m{file.sql.begin(), file.sql.end(), created}, end;
             m != end; ++m) {
            ++functions;
            INFO(file.name << ": " << (*m)[1]);
            CHECK(foreign_function_frame(
                      in("22P02", "PL/pgSQL function " + (*m)[1].str() + "() line 1"))
                      .empty());
        }
    }
    CHECK(functions >= 8);
    // a lock or a deadlock inside their trigger is still worth a retry
    CHECK(exit_code_for(in("40P01", "PL/pgSQL function bot_audit() line 3 at PERFORM")) ==
          exit_code::temporary);
}

// The tools' statements reach a LATIN1 database as its own encoding: one
// character it has no equivalent for, even in a comment, and the server
// refuses the whole statement (22P05; a "10⁶" in plan's candidates query
// did). Migrations are exempt: they run as SQL_ASCII there.
TEST_CASE("the SQL the tools send is ASCII, comments included", "[nodb]")
{
    std::vector<std::string> found;
    for (auto const* dir : {"/lib", "/sim"}) {
        for (auto const& entry :
             std::filesystem::directory_iterator{std::string{XLOOP_SOURCE_DIR} + dir}) {
            if (entry.path().extension() != ".cpp") {
                continue;
            }
            std::ifstream in{entry.path()};
            std::string const text{std::istreambuf_iterator<char>{in}, {}};
            for (auto at = text.find("R\"sql("); at != std::string::npos;
                 at = text.find("R\"sql(", at + 1)) {
                auto const end = text.find(")sql\"", at);
                REQUIRE(end != std::string::npos);
                auto const bad = std::find_if(
                    text.begin() + static_cast<std::ptrdiff_t>(at),
                    text.begin() + static_cast<std::ptrdiff_t>(end),
                    [](char c) { return static_cast<unsigned char>(c) > 127; });
                if (bad != text.begin() + static_cast<std::ptrdiff_t>(end)) {
                    found.push_back(fmt::format("{}:{}", entry.path().filename().string(),
                                                std::count(text.begin(), bad, '\n') + 1));
                }
            }
        }
    }
    CHECK(found == std::vector<std::string>{});
}
