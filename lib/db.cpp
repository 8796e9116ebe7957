#include "db.hpp"

#include "log.hpp"
#include "text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

namespace xloop {

std::optional<std::string> db_result::opt_str(int row, int col) const
{
    if (is_null(row, col)) {
        return std::nullopt;
    }
    return str(row, col);
}

std::int64_t db_result::i64(int row, int col) const
{
    auto const v = get(row, col);
    std::int64_t out = 0;
    auto const [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc{} || p != v.data() + v.size()) {
        throw error{
            fmt::format("column '{}' is not an integer: '{}'", column_name(col), v)};
    }
    return out;
}

double db_result::f64(int row, int col) const
{
    auto const v = get(row, col);
    double out = 0;
    auto const [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc{} || p != v.data() + v.size()) {
        throw error{
            fmt::format("column '{}' is not a number: '{}'", column_name(col), v)};
    }
    return out;
}

pg_param to_param(std::vector<std::string> const& v)
{
    std::string out = "{";
    for (std::size_t i = 0; i < v.size(); ++i) {
        out += i ? ",\"" : "\"";
        for (char const c : v[i]) {
            if (c == '"' || c == '\\') {
                out += '\\';
            }
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

pg_param to_param(double v)
{
    return fmt::format("{}", v);
}

pg_param to_param(std::vector<double> const& v)
{
    std::string out = "{";
    for (std::size_t i = 0; i < v.size(); ++i) {
        out += (i ? "," : "") + *to_param(v[i]);
    }
    return out + "}";
}

std::string place_text(database_place const& p)
{
    auto const plain =
        !p.name.empty() && std::all_of(p.name.begin(), p.name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                   c == '.';
        });
    std::string name = p.name;
    if (!plain) {
        name = "\"";
        for (char const c : p.name) {
            name += c == '"' ? std::string{"\"\""} : std::string(1, c);
        }
        name += '"';
    }
    // an IPv6 address in brackets, so that its port stands apart
    bool const v6 = p.host.find(':') != std::string::npos;
    return escape_line(fmt::format("{} at {}{}{}:{}", name, v6 ? "[" : "", p.host,
                                   v6 ? "]" : "", p.port));
}

database_place db_connection::place() const
{
    auto text = [](char const* v) { return std::string{v ? v : ""}; };
    PGconn* c = m_conn.get();
    return {text(PQdb(c)), text(PQhost(c)), text(PQport(c)), text(PQuser(c))};
}

std::string db_connection::server_encoding() const
{
    char const* e = PQparameterStatus(m_conn.get(), "server_encoding");
    return e ? e : "";
}

bool db_connection::holds_any_text() const
{
    auto const e = server_encoding();
    return e == "UTF8" || e == "SQL_ASCII";
}

void db_connection::throw_result_error(PGresult* r, std::string_view context)
{
    auto field = [r](int code) {
        char const* v = r ? PQresultErrorField(r, code) : nullptr;
        return std::string{v ? v : ""};
    };
    std::string sqlstate = field(PG_DIAG_SQLSTATE);
    std::string primary = field(PG_DIAG_MESSAGE_PRIMARY);
    if (primary.empty()) {
        primary = one_line(PQerrorMessage(m_conn.get()));
        if (sqlstate.empty() && PQstatus(m_conn.get()) != CONNECTION_OK) {
            sqlstate = "08006"; // connection_failure
        }
    }
    std::string msg = primary;
    if (!sqlstate.empty()) {
        msg += fmt::format(" (SQLSTATE {})", sqlstate);
    }
    if (auto const detail = field(PG_DIAG_MESSAGE_DETAIL); !detail.empty()) {
        msg += "; detail: " + detail;
    }
    if (auto const hint = field(PG_DIAG_MESSAGE_HINT); !hint.empty()) {
        msg += "; hint: " + hint;
    }
    auto const where = field(PG_DIAG_CONTEXT);
    if (!where.empty()) {
        log::debug("server context: {}", where);
    }
    db_object object{field(PG_DIAG_SCHEMA_NAME), field(PG_DIAG_TABLE_NAME),
                     field(PG_DIAG_COLUMN_NAME), field(PG_DIAG_CONSTRAINT_NAME)};
    int position = 0;
    if (auto const p = field(PG_DIAG_STATEMENT_POSITION); !p.empty()) {
        position = std::atoi(p.c_str());
    }
    if (r) {
        PQclear(r);
    }
    // Which statement failed: an operator reading the ledger or cron's mail
    // can tell a job's statements apart without a debugger.
    if (auto const shown = statement_summary(context, 160); !shown.empty()) {
        msg += "; statement: " + shown;
    }
    throw db_error{redact_secrets(msg, m_conninfo),
                   sqlstate,
                   position,
                   std::string{context},
                   std::move(object),
                   where};
}

void check_server_version(int version)
{
    if (version == 0 || version >= min_server_version) {
        return;
    }
    // Since 10 a version is major * 10000 + minor; before, major.minor.patch.
    auto const shown = version >= 100000
                           ? fmt::format("{}.{}", version / 10000, version % 10000)
                           : fmt::format("{}.{}.{}", version / 10000, version / 100 % 100,
                                         version % 100);
    throw config_error{fmt::format(
        "the database server is PostgreSQL {}; xloop needs {} or later (its tests run on "
        "14 to 18)",
        shown, min_server_version / 10000)};
}

std::string statement_summary(std::string_view sql, std::size_t max_chars)
{
    std::string out;
    bool space = false;
    for (char const c : sql) {
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            space = !out.empty();
            continue;
        }
        if (out.size() >= max_chars) {
            out += " …";
            return out;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += c;
    }
    return out;
}

void db_connection::log_statement(std::string_view sql,
                                  std::chrono::steady_clock::time_point start) const
{
    auto const ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    log::info("sql {:.1f} ms: {}", ms, statement_summary(sql, 400));
}

db_result db_connection::check(PGresult* r, std::string_view sql)
{
    auto const status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ||
        status == PGRES_COPY_IN || status == PGRES_COPY_OUT) {
        return db_result{r};
    }
    throw_result_error(r, sql);
}

db_result db_connection::exec(std::string_view sql)
{
    std::string const s{sql};
    auto const start = std::chrono::steady_clock::now();
    PGresult* r = PQexec(m_conn.get(), s.c_str());
    if (m_log_sql) {
        log_statement(sql, start);
    }
    return check(r, sql);
}

db_result db_connection::exec_params(std::string_view sql,
                                     std::vector<pg_param> const& params)
{
    std::vector<char const*> values;
    values.reserve(params.size());
    for (auto const& p : params) {
        values.push_back(p ? p->c_str() : nullptr);
    }
    std::string const s{sql};
    auto const start = std::chrono::steady_clock::now();
    PGresult* r = PQexecParams(m_conn.get(), s.c_str(), static_cast<int>(values.size()),
                               nullptr, values.data(), nullptr, nullptr, 0);
    if (m_log_sql) {
        log_statement(sql, start); // the statement, never its parameters
    }
    return check(r, sql);
}

void db_connection::parse(std::string_view sql)
{
    std::string const s{sql};
    auto const start = std::chrono::steady_clock::now();
    // the unnamed statement, which the next statement sent replaces
    PGresult* r = PQprepare(m_conn.get(), "", s.c_str(), 0, nullptr);
    if (m_log_sql) {
        log_statement(sql, start);
    }
    check(r, sql);
}

void db_connection::copy_begin(std::string_view copy_sql)
{
    m_copy_sql = copy_sql; // names the COPY if its data fails later
    // Not exec(): --log-sql logs a COPY when its data has ended.
    m_copy_start = std::chrono::steady_clock::now();
    check(PQexec(m_conn.get(), m_copy_sql.c_str()), m_copy_sql);
}

void db_connection::copy_send(std::string_view data)
{
    if (PQputCopyData(m_conn.get(), data.data(), static_cast<int>(data.size())) != 1) {
        throw_result_error(nullptr, m_copy_sql);
    }
}

void db_connection::copy_end()
{
    if (PQputCopyEnd(m_conn.get(), nullptr) != 1) {
        throw_result_error(nullptr, m_copy_sql);
    }
    // Drain every result: the last one tells whether the COPY succeeded.
    while (PGresult* r = PQgetResult(m_conn.get())) {
        check(r, m_copy_sql);
    }
    if (m_log_sql) {
        log_statement(m_copy_sql, m_copy_start);
    }
}

std::int64_t db_connection::copy_out(std::string_view copy_sql,
                                     std::function<void(std::string_view)> const& on_row,
                                     bool binary)
{
    copy_begin(copy_sql);
    std::int64_t rows = 0;
    while (true) {
        char* buf = nullptr;
        int const n = PQgetCopyData(m_conn.get(), &buf, 0);
        if (n == -1) {
            break;
        }
        if (n == -2) {
            throw_result_error(nullptr, m_copy_sql);
        }
        std::string_view line{buf, static_cast<std::size_t>(n)};
        if (!binary && !line.empty() && line.back() == '\n') {
            line.remove_suffix(1);
        }
        try {
            on_row(line);
        } catch (...) {
            PQfreemem(buf);
            // Leave the connection usable: cancel and drain the rest of the COPY.
            if (PGcancel* c = PQgetCancel(m_conn.get())) {
                char err[256];
                PQcancel(c, err, sizeof err);
                PQfreeCancel(c);
            }
            while (PQgetCopyData(m_conn.get(), &buf, 0) >= 0) {
                PQfreemem(buf);
            }
            while (PGresult* r = PQgetResult(m_conn.get())) {
                PQclear(r);
            }
            throw;
        }
        PQfreemem(buf);
        ++rows;
    }
    while (PGresult* r = PQgetResult(m_conn.get())) {
        check(r, m_copy_sql);
    }
    if (m_log_sql) {
        log_statement(m_copy_sql, m_copy_start);
    }
    return rows;
}

transaction::transaction(db_connection& conn, std::string_view begin_sql) : m_conn(&conn)
{
    auto const& local = m_conn->local_settings();
    m_conn->exec(local.empty() ? std::string{begin_sql}
                               : fmt::format("{}; {}", begin_sql, local));
}

transaction::~transaction() noexcept
{
    if (m_open) {
        PGresult* r = PQexec(m_conn->raw(), "ROLLBACK");
        PQclear(r);
    }
}

void transaction::commit()
{
    m_open = false;
    m_conn->exec("COMMIT");
}

copy_writer::copy_writer(db_connection& conn, std::string_view copy_sql) : m_conn(&conn)
{
    m_conn->copy_begin(copy_sql);
    m_buffer.reserve(1 << 17);
}

copy_writer::~copy_writer() noexcept
{
    if (!m_finished) {
        // Abandoned (an exception is on its way): abort the COPY.
        PQputCopyEnd(m_conn->raw(), "aborted by client");
        while (PGresult* r = PQgetResult(m_conn->raw())) {
            PQclear(r);
        }
    }
}

void copy_writer::separate()
{
    if (m_row_started) {
        m_buffer += '\t';
    }
    m_row_started = true;
}

void copy_writer::add(std::string_view text)
{
    separate();
    for (char const c : text) {
        switch (c) {
        case '\\':
            m_buffer += "\\\\";
            break;
        case '\t':
            m_buffer += "\\t";
            break;
        case '\n':
            m_buffer += "\\n";
            break;
        case '\r':
            m_buffer += "\\r";
            break;
        default:
            m_buffer += c;
        }
    }
}

void copy_writer::add_null()
{
    separate();
    m_buffer += "\\N";
}

void copy_writer::add(double v)
{
    separate();
    fmt::format_to(std::back_inserter(m_buffer), "{}", v);
}

void copy_writer::add(std::int64_t v)
{
    separate();
    fmt::format_to(std::back_inserter(m_buffer), "{}", v);
}

void copy_writer::add(timestamp t)
{
    separate();
    m_buffer += format_timestamp(t);
}

void copy_writer::end_row()
{
    m_buffer += '\n';
    m_row_started = false;
    ++m_rows;
    if (m_buffer.size() >= (1 << 16)) {
        m_conn->copy_send(m_buffer);
        m_buffer.clear();
    }
}

void copy_writer::finish()
{
    if (!m_buffer.empty()) {
        m_conn->copy_send(m_buffer);
        m_buffer.clear();
    }
    m_finished = true;
    m_conn->copy_end();
}

std::vector<std::optional<std::string>> split_copy_row(std::string_view row)
{
    std::vector<std::optional<std::string>> out;
    std::string field;
    bool is_null = false;
    auto flush = [&] {
        if (is_null) {
            out.emplace_back(std::nullopt);
        } else {
            out.emplace_back(std::move(field));
        }
        field.clear();
        is_null = false;
    };
    for (std::size_t i = 0; i < row.size(); ++i) {
        char const c = row[i];
        if (c == '\t') {
            flush();
        } else if (c == '\\' && i + 1 < row.size()) {
            char const n = row[++i];
            switch (n) {
            case 'N':
                is_null = true;
                break;
            case 't':
                field += '\t';
                break;
            case 'n':
                field += '\n';
                break;
            case 'r':
                field += '\r';
                break;
            default:
                field += n;
            }
        } else {
            field += c;
        }
    }
    flush();
    return out;
}

void set_local_settings(db_connection& db,
                        std::vector<std::pair<std::string, pg_param>> const& settings)
{
    std::string sql = "SELECT";
    std::vector<pg_param> params;
    for (auto const& [name, value] : settings) {
        sql += fmt::format("{} set_config(${}, ${}, true)", params.empty() ? "" : ",",
                           params.size() + 1, params.size() + 2);
        params.emplace_back(name);
        params.push_back(value);
    }
    db.exec_params(sql, params);
}

namespace {

// "UTC+01:00", "UTC-09:30"
std::string utc_offset_text(int minutes)
{
    auto const a = std::abs(minutes);
    return fmt::format("UTC{}{:02}:{:02}", minutes < 0 ? '-' : '+', a / 60, a % 60);
}

} // namespace

void require_time_zone(db_connection& db, std::string const& zone,
                       std::string const& config_key)
{
    // PostgreSQL reads a name in its list of abbreviations (CET, PST, IST) as
    // that abbreviation's fixed offset before it looks for a zone of the
    // name: 'CET' is UTC+1 in summer too, 'IST' Israel's +2, not India's. A
    // region's name has a '/' and is never one, and UTC and GMT (offset 0
    // all year) are what they say: those skip the list (the default zone of
    // every idle run).
    auto const lower = to_lower(zone);
    // 'localtime' is the zone of the machine the server runs on (its
    // /etc/localtime), not of the one cron runs the tools on: a managed
    // database's is UTC whatever the operator's is
    if (lower == "localtime" || lower.ends_with("/localtime")) {
        throw config_error{fmt::format(
            "{}: '{}' is the time zone of the machine PostgreSQL runs on, not of this "
            "one: name the zone, e.g. 'Europe/Berlin' or 'America/New_York' "
            "(pg_timezone_names lists them)",
            config_key, zone)};
    }
    bool const look_up =
        zone.find('/') == std::string::npos && lower != "utc" && lower != "gmt";
    std::optional<db_result> r;
    try {
        r = db.exec(!look_up ? "SELECT now() AT TIME ZONE $1" : R"sql(
SELECT now() AT TIME ZONE $1, a.minutes, a.is_dst
  FROM (SELECT 1) one
  LEFT JOIN (SELECT extract(epoch FROM utc_offset)::int / 60 AS minutes, is_dst
               FROM pg_timezone_abbrevs
              WHERE lower(abbrev) = lower($1) AND (utc_offset <> interval '0' OR is_dst)) a
    ON true)sql",
                    zone);
    } catch (db_error const&) {
        throw config_error{fmt::format(
            "{}: '{}' is not a time zone PostgreSQL knows (see pg_timezone_names)",
            config_key, zone)};
    }
    if (!look_up || r->is_null(0, 1)) {
        return;
    }
    auto const minutes = static_cast<int>(r->i64(0, 1));
    throw config_error{fmt::format(
        "{}: '{}' is read by PostgreSQL as a time zone abbreviation, a fixed {} all "
        "year ({}): name the zone, e.g. 'Europe/Berlin' or 'America/New_York' "
        "(pg_timezone_names lists them){}",
        config_key, zone, utc_offset_text(minutes),
        r->boolean(0, 2) ? "summer time in winter too" : "no change for summer time",
        minutes % 60 == 0
            ? fmt::format(", or for that offset all year 'Etc/GMT{:+}'", -minutes / 60)
            : std::string{})};
}

std::string quote_ident(std::string_view name)
{
    std::string out = "\"";
    for (char const c : name) {
        if (c == '"') {
            out += '"';
        }
        out += c;
    }
    out += '"';
    return out;
}

std::string quote_literal(std::string_view value)
{
    bool const backslash = value.find('\\') != std::string_view::npos;
    std::string out = backslash ? "E'" : "'";
    for (char const c : value) {
        if (c == '\'' || c == '\\') {
            out += c;
        }
        out += c;
    }
    out += '\'';
    return out;
}

} // namespace xloop
