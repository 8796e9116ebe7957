#include "test_db_fixture.hpp"

#include "copy_row.hpp"
#include "log.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <regex>
#include <unistd.h>

using namespace xloop;
using namespace xloop::test;

TEST_CASE("parameters travel as text and NULL, never spliced into SQL", "[db]")
{
    test_db db;
    auto c = db.connect();
    std::optional<std::string> none;
    auto const r =
        c.exec("SELECT $1::text, $2::int + 1, $3::text IS NULL, $4::float8 * 2",
               std::string{"it's; DROP TABLE x"}, 41, none, 0.25);
    CHECK(r.str(0, 0) == "it's; DROP TABLE x");
    CHECK(r.i64(0, 1) == 42);
    CHECK(r.boolean(0, 2));
    CHECK(r.f64(0, 3) == 0.5);
}

TEST_CASE("a server error carries its SQLSTATE and message", "[db]")
{
    test_db db;
    auto c = db.connect();
    try {
        c.exec("SELECT 1/0");
        FAIL("no error");
    } catch (db_error const& e) {
        CHECK(e.sqlstate() == "22012");
        CHECK(std::string{e.what()}.find("division by zero") != std::string::npos);
        CHECK(exit_code_for(e) == exit_code::software);
    }
}

TEST_CASE("parse resolves a statement's names and runs nothing", "[db]")
{
    test_db db;
    auto c = db.connect();
    c.exec("CREATE TABLE t (x int)");
    c.parse("INSERT INTO t SELECT x + 1 FROM t");
    c.parse("INSERT INTO t VALUES (1)");
    CHECK(db.count("SELECT count(*) FROM t") == 0);
    auto const state_of = [&c](char const* sql) {
        try {
            c.parse(sql);
        } catch (db_error const& e) {
            return e.sqlstate();
        }
        return std::string{"parsed"};
    };
    CHECK(state_of("SELECT y FROM t") == "42703");
    CHECK(state_of("SELECT x FROM u") == "42P01");
    CHECK(state_of("SELECT x FROM nowhere.t") == "42P01"); // a schema not there too
    CHECK(state_of("SELECT 1/0") == "parsed");             // evaluated only when run
    CHECK(c.exec("SELECT 2").i64(0, 0) == 2);              // the connection goes on
}

TEST_CASE("a transaction not committed is rolled back", "[db]")
{
    test_db db;
    auto c = db.connect();
    c.exec("CREATE TABLE t (x int)");
    {
        transaction tx{c};
        c.exec("INSERT INTO t VALUES (1)");
    }
    CHECK(db.count("SELECT count(*) FROM t") == 0);
    {
        transaction tx{c};
        c.exec("INSERT INTO t VALUES (2)");
        tx.commit();
    }
    CHECK(db.count("SELECT count(*) FROM t") == 1);
}

TEST_CASE("COPY streams rows in and out with escapes and NULLs intact", "[db]")
{
    test_db db;
    auto c = db.connect();
    c.exec("CREATE TABLE t (id bigint, s text, v float8, at timestamptz)");
    {
        copy_writer w{c, "COPY t FROM STDIN"};
        for (std::int64_t i = 0; i < 5000; ++i) {
            w.add(i);
            if (i == 7) {
                w.add_null();
            } else {
                w.add(std::string_view{"tab\there\\back\nline"});
            }
            w.add(i * 0.5);
            w.add(*parse_timestamp("2026-03-02T12:00:00Z"));
            w.end_row();
        }
        w.finish();
        CHECK(w.rows() == 5000);
    }
    CHECK(db.count("SELECT count(*) FROM t WHERE s = E'tab\\there\\\\back\\nline'") ==
          4999);
    CHECK(db.count("SELECT count(*) FROM t WHERE at = '2026-03-02 12:00:00+00'") == 5000);
    std::int64_t seen_null = 0;
    double sum = 0;
    auto const n = c.copy_out("COPY (SELECT id, s, v FROM t ORDER BY id) TO STDOUT",
                              [&](std::string_view row) {
                                  auto const f = split_copy_row(row);
                                  REQUIRE(f.size() == 3);
                                  seen_null += !f[1].has_value();
                                  if (f[1]) {
                                      CHECK(*f[1] == "tab\there\\back\nline");
                                  }
                                  sum += std::stod(*f[2]);
                              });
    CHECK(n == 5000);
    CHECK(seen_null == 1);
    CHECK(sum == Approx(0.5 * 4999 * 5000 / 2));
}

TEST_CASE("binary COPY reads numbers, text, NULL and times, and keeps ±infinity at the "
          "int64 limits",
          "[db]")
{
    test_db db;
    auto c = db.connect();
    std::vector<std::string> seen;
    binary_copy_reader reader;
    auto const read_row = [&](binary_copy_reader const& r) {
        REQUIRE(r.size() == 5);
        seen.push_back(fmt::format("{} {} {} {} {}", r.int8(0), r.float8(1),
                                   r.is_null(2) ? "NULL" : std::string{r.text(2)},
                                   r.boolean(3), r.timestamptz_unix_micros(4)));
    };
    c.copy_out(
        "COPY (SELECT g::int8, g / 4.0::float8, CASE WHEN g = 2 THEN 'two' END, "
        "g = 3, (ARRAY['1970-01-01T00:00:01Z', '2026-03-02T12:00:00.5Z', "
        "'infinity', '-infinity'])[g]::timestamptz FROM generate_series(1, 4) g) "
        "TO STDOUT (FORMAT binary)",
        [&](std::string_view message) { reader.feed(message, read_row); }, true);
    REQUIRE(seen.size() == 4);
    CHECK(seen[0] == "1 0.25 NULL false 1000000");
    CHECK(seen[1] == "2 0.5 two false 1772452800500000"); // 2026-03-02T12:00:00.5Z
    CHECK(seen[2] == "3 0.75 NULL true 9223372036854775807");
    CHECK(seen[3] == "4 1 NULL false -9223372036854775808");
}

TEST_CASE("an exception while reading COPY output leaves the connection usable", "[db]")
{
    test_db db;
    auto c = db.connect();
    CHECK_THROWS_AS(c.copy_out("COPY (SELECT generate_series(1, 100000)) TO STDOUT",
                               [](std::string_view) { throw data_error{"stop"}; }),
                    data_error);
    CHECK(c.exec("SELECT 7").i64(0, 0) == 7);
}

TEST_CASE("a COPY abandoned half-way writes nothing", "[db]")
{
    test_db db;
    auto c = db.connect();
    c.exec("CREATE TABLE t (x int)");
    {
        copy_writer w{c, "COPY t FROM STDIN"};
        w.add(std::int64_t{1});
        w.end_row();
    } // destroyed without finish(): aborted
    CHECK(db.count("SELECT count(*) FROM t") == 0);
}

TEST_CASE("a database is named by its name, host and port, quoted where its name "
          "needs it",
          "[nodb]")
{
    CHECK(place_text({"ex", "/tmp/pg", "5499", "postgres"}) == "ex at /tmp/pg:5499");
    CHECK(place_text({"bot-prod.2", "db.example.com", "5432", "u"}) ==
          "bot-prod.2 at db.example.com:5432");
    // a name with a space or a quote in SQL's way; an IPv6 address bracketed
    CHECK(place_text({"my \"db\"", "::1", "5432", "u"}) ==
          "\"my \"\"db\"\"\" at [::1]:5432");
    // a line break cannot forge a line of the report
    CHECK(place_text({"a\nverdict: READY", "h", "1", "u"}) ==
          "\"a\\nverdict: READY\" at h:1");
    CHECK(place_text({"", "h", "1", "u"}) == "\"\" at h:1");
}

TEST_CASE("a connection says which database, host, port and user it reached, and no "
          "password",
          "[db]")
{
    test_db db;
    auto c = db.connect();
    auto const p = c.place();
    CHECK(p.name == db.name());
    CHECK(p.user == c.exec("SELECT current_user").str(0, 0));
    CHECK(p.port == c.exec("SELECT current_setting('port')").str(0, 0));
    CHECK_FALSE(p.host.empty());
    auto const text = place_text(p);
    CHECK(text.rfind(db.name() + " at ", 0) == 0);
    CHECK(text.find(p.host) != std::string::npos);
    CHECK(text.substr(text.size() - p.port.size() - 1) == ":" + p.port);
}

TEST_CASE("connections are named after the tool", "[db]")
{
    test_db db;
    db_connection c{db.conninfo(), "xloop-migrate"};
    CHECK(c.exec("SHOW application_name").str(0, 0) == "xloop-migrate");
    // ...unless the operator names it
    db_connection named{db.conninfo() + " application_name=cron-box", "xloop-migrate"};
    CHECK(named.exec("SHOW application_name").str(0, 0) == "cron-box");
}

TEST_CASE("a connection runs without JIT, in a transaction too, whatever the server says",
          "[db]")
{
    test_db db;
    {
        auto admin = db.connect();
        admin.exec(fmt::format("ALTER DATABASE {} SET jit = on", quote_ident(db.name())));
    }
    db_connection c{db.conninfo(), "xloop-validate"};
    CHECK(c.exec("SHOW jit").str(0, 0) == "off");
    // behind a transaction pooler a transaction may run in another server
    // session, with the server's settings: the transaction sets it again
    c.exec("SET jit = on");
    transaction tx{c};
    CHECK(c.exec("SHOW jit").str(0, 0) == "off");
}

TEST_CASE("a server error names the statement that failed, never its parameters", "[db]")
{
    test_db db;
    auto c = db.connect();
    c.exec("CREATE TABLE t (id int PRIMARY KEY, secret text)");
    c.exec("INSERT INTO t VALUES (1, 'x')");
    try {
        c.exec("INSERT INTO t\n    (id, secret)\n    VALUES ($1::int, $2)", 1,
               std::string{"hunter2"});
        FAIL("no error");
    } catch (db_error const& e) {
        std::string const what = e.what();
        CHECK(e.sqlstate() == "23505");
        CHECK(what.find("; statement: INSERT INTO t (id, secret) VALUES ($1::int, $2)") !=
              std::string::npos);
        CHECK(what.find("hunter2") == std::string::npos);
        CHECK(e.statement() ==
              "INSERT INTO t\n    (id, secret)\n    VALUES ($1::int, $2)");
    }
    // a COPY whose data fails names the COPY
    try {
        copy_writer w{c, "COPY t (id, secret) FROM STDIN"};
        w.add(std::string_view{"not a number"});
        w.add(std::string_view{"y"});
        w.end_row();
        w.finish();
        FAIL("no error");
    } catch (db_error const& e) {
        CHECK(std::string{e.what()}.find("statement: COPY t (id, secret) FROM STDIN") !=
              std::string::npos);
    }
    CHECK(statement_summary(std::string(300, 'x'), 10) == "xxxxxxxxxx …");
}

TEST_CASE("a server older than PostgreSQL 14 is refused, naming its version", "[db]")
{
    CHECK_THROWS_MATCHES(check_server_version(130023), config_error,
                         Catch::Message("the database server is PostgreSQL 13.23; xloop "
                                        "needs 14 or later (its tests run on 14 to 18)"));
    CHECK_THROWS_WITH(check_server_version(90624), Catch::Contains("PostgreSQL 9.6.24;"));
    CHECK_NOTHROW(check_server_version(140000));
    CHECK_NOTHROW(check_server_version(180004));
    CHECK_NOTHROW(check_server_version(0)); // not known (a pooler may not say)
    // every connection is checked: this suite's server passes
    test_db db;
    CHECK_NOTHROW(db.connect());
}

namespace {

// stderr into a temporary file while it lives; text() reads what came.
class stderr_capture {
public:
    stderr_capture()
    {
        std::fflush(stderr);
        m_saved = ::dup(2);
        ::dup2(::fileno(m_file), 2);
    }
    ~stderr_capture() { restore(); }
    stderr_capture(stderr_capture const&) = delete;
    stderr_capture& operator=(stderr_capture const&) = delete;

    std::string text()
    {
        restore();
        std::rewind(m_file);
        std::string out;
        char buf[4096];
        while (auto const n = std::fread(buf, 1, sizeof buf, m_file)) {
            out.append(buf, n);
        }
        return out;
    }

private:
    void restore()
    {
        if (m_saved >= 0) {
            std::fflush(stderr);
            ::dup2(m_saved, 2);
            ::close(m_saved);
            m_saved = -1;
        }
    }

    std::FILE* m_file = std::tmpfile();
    int m_saved = -1;
};

// The milliseconds --log-sql gave the statement starting with `start`.
double logged_ms(std::string const& log, std::string const& start)
{
    std::smatch m;
    std::regex const line{"sql ([0-9.]+) ms: " +
                          std::regex_replace(start, std::regex{R"([()*])"}, R"(\$&)")};
    REQUIRE(std::regex_search(log, m, line));
    return std::stod(m[1]);
}

} // namespace

TEST_CASE(
    "the option --log-sql times a COPY to the end of its data, not to its first row",
    "[db]")
{
    test_db db;
    auto c = db.connect();
    c.exec("CREATE TABLE t (x int)");
    // three rows that take 0.1 s each, out and in (a trigger that sleeps);
    // out, each too long to wait in the server's 8 kB buffer for the next
    c.exec("CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS "
           "$$ BEGIN PERFORM pg_sleep(0.1); RETURN NEW; END $$");
    c.exec("CREATE TRIGGER slow BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION slow()");
    c.set_log_sql(true);
    // a tool run in this process before may have left the log quieter
    log::configure("xloop-test", log::format::text, log::level::info);
    stderr_capture capture;
    int rows = 0;
    c.copy_out(
        "COPY (SELECT repeat('x', 10000), pg_sleep(0.1) FROM generate_series(1, 3)) "
        "TO STDOUT",
        [&](std::string_view) { ++rows; });
    {
        copy_writer w{c, "COPY t FROM STDIN"};
        for (std::int64_t x : {1, 2, 3}) {
            w.add(x);
            w.end_row();
        }
        w.finish();
    }
    auto const log = capture.text();
    INFO(log);
    CHECK(rows == 3);
    CHECK(logged_ms(log, "COPY (SELECT repeat('x', 10000)") >= 290);
    CHECK(logged_ms(log, "COPY t FROM STDIN") >= 290);
    CHECK(db.count("SELECT count(*) FROM t") == 3);
}
