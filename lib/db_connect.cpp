#include "db.hpp"

#include "argv_secrets.hpp"
#include "host_lookup.hpp"
#include "interrupt.hpp"
#include "log.hpp"
#include "off_thread.hpp"
#include "ssl_probe.hpp"
#include "text.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <vector>

// Connecting: the connection string and its secrets, a connection that
// starts within connect_timeout whatever the network does, and a refusal
// told by its cause (unreachable 75, refused 78). db.cpp runs statements.

namespace xloop {

std::string resolve_conninfo(std::optional<std::string> const& db_option)
{
    if (db_option && !db_option->empty()) {
        return *db_option;
    }
    if (char const* url = std::getenv("DATABASE_URL"); url && *url) {
        return url;
    }
    return {};
}

std::string unnamed_database_hint(std::string const& conninfo,
                                  std::function<char const*(char const*)> const& env)
{
    if (!conninfo.empty()) {
        return {};
    }
    for (char const* name :
         {"PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSERVICE"}) {
        if (char const* v = env(name); v && *v) {
            return {};
        }
    }
    return "; no database was named (no --db, DATABASE_URL or PGHOST), so libpq's "
           "default, this machine's socket, was tried: a cron line that did not read "
           "its environment file (cron/xloop.crontab's /etc/xloop/xloop.env)?";
}

namespace {

void replace_all(std::string& s, std::string const& what, std::string_view with)
{
    if (what.empty()) {
        return;
    }
    for (auto pos = s.find(what); pos != std::string::npos;
         pos = s.find(what, pos + with.size())) {
        s.replace(pos, what.size(), with);
    }
}

std::set<std::string> conninfo_keywords()
{
    std::set<std::string> out;
    PQconninfoOption* opts = PQconndefaults();
    for (auto* o = opts; o && o->keyword; ++o) {
        out.insert(o->keyword);
    }
    PQconninfoFree(opts);
    return out;
}

// A connection string libpq could not parse may echo any fragment of it in
// quotes, a password included: keep quoted keywords, mask everything else.
std::string mask_quoted_fragments(std::string const& message)
{
    auto const keywords = conninfo_keywords();
    std::string out;
    std::size_t pos = 0;
    while (true) {
        auto const open = message.find('"', pos);
        if (open == std::string::npos) {
            break;
        }
        auto const close = message.find('"', open + 1);
        if (close == std::string::npos) {
            break;
        }
        auto const inner = message.substr(open + 1, close - open - 1);
        out += message.substr(pos, open - pos);
        out += keywords.count(inner) ? '"' + inner + '"' : std::string{"\"…\""};
        pos = close + 1;
    }
    out += message.substr(pos);
    return out;
}

void log_notice(std::string const& who, std::string const& severity, char const* msg)
{
    if (severity == "WARNING") {
        log::warn("{}: {}", who, msg);
    } else if (severity == "NOTICE" || severity == "INFO") {
        log::info("{}: {}", who, msg);
    } else {
        log::debug("{}: {}", who, msg);
    }
}

// `sink` is the connection's notice_sink: logged at once, or held.
void notice_receiver(void* sink, PGresult const* r)
{
    auto& to = *static_cast<notice_sink*>(sink);
    char const* sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    char const* msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    if (!msg) {
        return;
    }
    std::string severity = sev ? sev : "NOTICE";
    if (to.holding) {
        to.held.emplace_back(std::move(severity), msg);
    } else {
        log_notice(to.label, severity, msg);
    }
}

// Server messages while a connection starts (a database with
// client_min_messages = debug sends dozens) go where the run's do, not to
// libpq's default, stderr: a cron job would mail them every run.
void route_startup_notices(PGconn* c)
{
    static notice_sink startup;
    if (c) {
        PQsetNoticeReceiver(c, notice_receiver, &startup);
    }
}

} // namespace

std::string redact_secrets(std::string message, std::string const& conninfo)
{
    for (auto const& secret : conninfo_secret_values(conninfo.c_str())) {
        replace_all(message, secret, "***");
    }
    if (char const* pw = std::getenv("PGPASSWORD"); pw && *pw) {
        replace_all(message, pw, "***");
    }
    return message;
}

namespace {

// The value of one connection option as libpq resolved it.
std::optional<std::string> connection_option(PGconn* c, char const* keyword)
{
    std::optional<std::string> out;
    if (PQconninfoOption* opts = PQconninfo(c)) {
        for (auto* o = opts; o->keyword; ++o) {
            if (o->val && std::strcmp(o->keyword, keyword) == 0) {
                out = o->val;
            }
        }
        PQconninfoFree(opts);
    }
    return out;
}

// The comma-separated entries of a connection option (none when unset).
// "a,b,,c" as libpq reads a host list: every entry, empty ones too.
std::vector<std::string> comma_list(std::string_view rest)
{
    std::vector<std::string> out;
    for (;;) {
        auto const comma = rest.find(',');
        out.emplace_back(rest.substr(0, comma));
        if (comma == std::string_view::npos) {
            return out;
        }
        rest.remove_prefix(comma + 1);
    }
}

std::vector<std::string> option_list(PGconn* c, char const* keyword)
{
    auto const value = connection_option(c, keyword);
    return value && !value->empty() ? comma_list(*value) : std::vector<std::string>{};
}

bool is_socket_directory(std::string const& host)
{
    return host.empty() || host[0] == '/' || host[0] == '@';
}

// Whether a host name of the connection cannot be looked up for now: the
// resolver answered EAI_AGAIN (its DNS server down or unreachable), which
// passes by itself, unlike a name that does not exist. Asked of the resolver
// again, since libpq says which only in words, and those are translated.
bool host_lookup_failing_for_now(PGconn* c)
{
    if (!option_list(c, "hostaddr").empty()) {
        return false; // no name to look up
    }
    auto const hosts = option_list(c, "host");
    return std::any_of(hosts.begin(), hosts.end(), [](std::string const& host) {
        return !is_socket_directory(host) &&
               look_up_host(host) == host_lookup::failing_for_now;
    });
}

// Whether the connection asks for TLS and one of its servers is up (answers
// an SSLRequest): a failure without a SQLSTATE is then its TLS settings (no
// TLS there, a certificate that does not verify, a root certificate file
// missing), which no retry mends.
bool tls_refused_by_live_server(PGconn* c)
{
    auto const mode = connection_option(c, "sslmode").value_or("");
    if (mode != "require" && mode != "verify-ca" && mode != "verify-full") {
        return false;
    }
    auto const addrs = option_list(c, "hostaddr");
    auto const names = option_list(c, "host");
    auto const ports = option_list(c, "port");
    for (std::size_t i = 0; i < std::max(addrs.size(), names.size()); ++i) {
        auto const& host = i < addrs.size() && !addrs[i].empty() ? addrs[i]
                           : i < names.size()                    ? names[i]
                                                                 : std::string{};
        auto const port = ports.size() > 1 && i < ports.size() ? ports[i]
                          : ports.size() == 1                  ? ports[0]
                                                               : std::string{};
        if (!is_socket_directory(host) &&
            answers_ssl_request(host, port.empty() ? "5432" : port,
                                std::chrono::seconds{2})) {
            return true;
        }
    }
    return false;
}

// TCP keepalives of every connection, at both ends: 60 s idle, then 6
// probes 10 s apart (the connection string's own keepalives_* win here).
constexpr char const* keepalive_idle_s = "60";
constexpr char const* keepalive_interval_s = "10";
constexpr char const* keepalive_count = "6";

// A database that cannot be reached now: cron's next run retries (75).
temporary_failure unreachable(std::string_view why)
{
    return temporary_failure{
        fmt::format("database unreachable (exit 75, retry later): {}", why)};
}

// connect_timeout in seconds; 0 (wait as long as it takes) for 0 or less, as
// libpq would. What libpq refuses (not a whole number, past an int) is
// refused: read as anything, 99999999999999999999 overflowed the deadline and
// gave up at once.
long timeout_seconds(std::string const& text)
{
    errno = 0;
    char* end = nullptr;
    long const s = std::strtol(text.c_str(), &end, 10);
    bool const digits = end != text.c_str();
    while (*end == ' ' || *end == '\t') {
        ++end;
    }
    if (!digits || *end != '\0' || errno == ERANGE ||
        s > std::numeric_limits<int>::max() || s < std::numeric_limits<int>::min()) {
        throw config_error{fmt::format(
            "connect_timeout '{}' is not a whole number of seconds (PGCONNECT_TIMEOUT or "
            "connect_timeout in the connection string)",
            text)};
    }
    return std::max(s, 0L);
}

// Whether starting a connection to these hosts asks the resolver for a name:
// one that is no socket directory and no numeric address, without hostaddr
// (a service file's hosts are not known here: assumed to).
bool looks_a_name_up(std::optional<std::string> const& hosts,
                     std::optional<std::string> const& hostaddr, bool service)
{
    if (service) {
        return true;
    }
    if (hostaddr || !hosts) {
        return false; // addresses given, or the default socket directory
    }
    auto const list = comma_list(*hosts);
    return std::any_of(list.begin(), list.end(), [](std::string const& host) {
        in6_addr address{};
        return !is_socket_directory(host) &&
               ::inet_pton(AF_INET, host.c_str(), &address) != 1 &&
               ::inet_pton(AF_INET6, host.c_str(), &address) != 1;
    });
}

// connect_timeout's deadline from now: at least 2 s, as libpq takes it; none
// for 0.
std::optional<std::chrono::steady_clock::time_point> connect_deadline(long timeout_s)
{
    if (timeout_s <= 0) {
        return std::nullopt;
    }
    return std::chrono::steady_clock::now() +
           std::chrono::seconds{std::max(timeout_s, 2L)};
}

// Drives a connection started by PQconnectStartParams to its end (at once
// for one already there), `wait` waiting for its socket each time, until
// `deadline` (libpq does not apply connect_timeout to a polled connection).
// Returns false when the deadline passed first.
template <typename Wait>
bool drive_connection(PGconn* c,
                      std::optional<std::chrono::steady_clock::time_point> deadline,
                      Wait const& wait)
{
    auto status = PGRES_POLLING_WRITING;
    while (PQstatus(c) != CONNECTION_OK && PQstatus(c) != CONNECTION_BAD) {
        auto const waited = wait(
            PQsocket(c), status == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        if (waited == poll_result::timed_out) {
            return false;
        }
        if (waited == poll_result::failed) {
            return true; // PQconnectPoll reports the socket's error
        }
        status = PQconnectPoll(c);
    }
    return true;
}

// Drives a started connection to its end, waking every 50 ms so a signal
// stops the wait (interrupted); 0: no deadline.
bool wait_for_connection(PGconn* c, long timeout_s)
{
    return drive_connection(c, connect_deadline(timeout_s), interruptible_poll);
}

// libpq looks host names up in a getaddrinfo no signal cuts short and no
// connect_timeout bounds (a resolver that does not answer holds it for its
// timeouts): the first host's in PQconnectStartParams, each next one's in the
// PQconnectPoll that moves on to it. So a connection to named hosts is made
// start to end on a thread of its own, as the run's thread would make it
// (verbose once started, so a server's refusal carries its SQLSTATE); the
// waiting thread gives it up at a signal (interrupted) or at the deadline
// (nothing; `started`: whether PQconnectStartParams had returned, the first
// lookup done), the connection then closed when it comes.
struct started_connection {
    PGconn* conn = nullptr;
    bool failed_at_start = false; // before any traffic: refused by libpq or the resolver
};

struct connect_attempt {
    std::optional<started_connection> done;
    bool started = false;
};

connect_attempt
connect_off_thread(char const* const* keys, char const* const* values,
                   std::optional<std::chrono::steady_clock::time_point> deadline)
{
    std::vector<std::string> k, v; // copies: the thread may outlive the caller's
    for (std::size_t i = 0; keys[i]; ++i) {
        k.emplace_back(keys[i]);
        v.emplace_back(values[i]);
    }
    auto const started = std::make_shared<std::atomic<bool>>(false);
    auto done = run_off_thread<started_connection>(
        [k, v, started, deadline] {
            std::vector<char const*> kp, vp;
            for (std::size_t i = 0; i < k.size(); ++i) {
                kp.push_back(k[i].c_str());
                vp.push_back(v[i].c_str());
            }
            kp.push_back(nullptr);
            vp.push_back(nullptr);
            started_connection s{PQconnectStartParams(kp.data(), vp.data(), 1)};
            route_startup_notices(s.conn);
            started->store(true);
            s.failed_at_start = s.conn && PQstatus(s.conn) == CONNECTION_BAD;
            if (s.conn && !s.failed_at_start) {
                PQsetErrorVerbosity(s.conn, PQERRORS_VERBOSE);
                drive_connection(s.conn, deadline, uninterrupted_poll);
            }
            return s;
        },
        [](started_connection s) { PQfinish(s.conn); }, deadline);
    throw_if_interrupted();
    return {done, started->load()};
}

// Why a connection did not end within connect_timeout.
std::string no_answer_within(std::string const& timeout, std::string_view why = {})
{
    return fmt::format("no answer within connect_timeout ({} s; PGCONNECT_TIMEOUT or "
                       "connect_timeout in the connection string){}{}",
                       timeout, why.empty() ? "" : ": ", why);
}

// Verbose messages end each server error with libpq's "LOCATION:  function,
// file:line" line: of no use to an operator.
std::string without_locations(std::string_view message)
{
    std::string out;
    while (!message.empty()) {
        auto const eol = message.find('\n');
        auto const line = message.substr(0, eol);
        if (line.rfind("LOCATION:  ", 0) != 0) {
            out.append(line);
            if (eol != std::string_view::npos) {
                out += '\n';
            }
        }
        message =
            eol == std::string_view::npos ? std::string_view{} : message.substr(eol + 1);
    }
    return out;
}

// Prisma's URL parameters, which Supabase's docs add to its pooler's URL and
// libpq refuses: named when the URL holds one (a name of this list only, so
// no part of a password can show).
std::string prisma_hint(std::string const& conninfo)
{
    auto const query = conninfo.find('?');
    if (conninfo.find("://") == std::string::npos || query == std::string::npos) {
        return {};
    }
    std::string_view rest{conninfo};
    rest.remove_prefix(query + 1);
    while (!rest.empty()) {
        auto const amp = rest.find('&');
        auto const param = rest.substr(0, amp);
        auto const name = param.substr(0, param.find('='));
        for (char const* p : {"pgbouncer", "connection_limit", "pool_timeout", "schema",
                              "statement_cache_size", "socket_timeout", "sslaccept"}) {
            if (name == p) {
                return fmt::format(" ('{}' is Prisma's parameter, not libpq's: remove "
                                   "it; xloop needs none behind a pooler)",
                                   p);
            }
        }
        rest.remove_prefix(amp == std::string_view::npos ? rest.size() : amp + 1);
    }
    return {};
}

// Whether a URI's user name or password holds an '@' as it is (Azure's
// user@server, a password with one): libpq takes what follows the first '@'
// for the host name, and its error would show the rest of the password.
bool unencoded_at_in_userinfo(std::string_view conninfo)
{
    for (std::string_view const scheme : {"postgresql://", "postgres://"}) {
        if (conninfo.substr(0, scheme.size()) == scheme) {
            auto const rest = conninfo.substr(scheme.size());
            auto const authority = rest.substr(0, rest.find_first_of("/?#"));
            return std::count(authority.begin(), authority.end(), '@') > 1;
        }
    }
    return false;
}

// The keywords a connection string gives values to, each looked up with the
// environment variable libpq would read in its place.
class conninfo_values {
public:
    explicit conninfo_values(std::string const& conninfo)
    {
        char* parse_error = nullptr;
        PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
        if (!parsed) {
            std::string const msg =
                mask_quoted_fragments(trim(parse_error ? parse_error : ""));
            PQfreemem(parse_error);
            throw config_error{fmt::format("invalid connection string: {}{}", msg,
                                           prisma_hint(conninfo))};
        }
        for (auto const* o = parsed; o->keyword; ++o) {
            if (o->val && *o->val) {
                m_given[o->keyword] = o->val;
            }
        }
        PQconninfoFree(parsed);
        if (unencoded_at_in_userinfo(conninfo)) {
            throw config_error{
                "the connection URI has more than one '@' before its host: write an "
                "'@' of the user name or password as %40 (libpq takes what follows "
                "the first '@' for the host name)"};
        }
    }

    // The connection string's own value, else the environment's (`env`).
    std::optional<std::string> value(char const* keyword, char const* env) const
    {
        if (auto const it = m_given.find(keyword); it != m_given.end()) {
            return it->second;
        }
        char const* v = env ? std::getenv(env) : nullptr;
        return v && *v ? std::optional<std::string>{v} : std::nullopt;
    }

private:
    std::map<std::string, std::string> m_given;
};

// A connection started (PQconnectStartParams) and not yet polled; a host
// name's lookup happens on a thread of its own, bounded by connect_timeout
// (`timeout`, unless the connection string has its own).
started_connection start_connection(char const* const* keys, char const* const* values,
                                    conninfo_values const& given,
                                    std::string const& timeout)
{
    if (!looks_a_name_up(given.value("host", "PGHOST"),
                         given.value("hostaddr", "PGHOSTADDR"),
                         given.value("service", "PGSERVICE").has_value())) {
        started_connection s{PQconnectStartParams(keys, values, 1)};
        route_startup_notices(s.conn);
        s.failed_at_start = s.conn && PQstatus(s.conn) == CONNECTION_BAD;
        return s;
    }
    auto const own_timeout = given.value("connect_timeout", nullptr).value_or(timeout);
    auto const attempt =
        connect_off_thread(keys, values, connect_deadline(timeout_seconds(own_timeout)));
    if (!attempt.started) {
        throw unreachable(
            fmt::format("its host name was not looked up within "
                        "connect_timeout ({} s): the resolver does not answer",
                        own_timeout));
    }
    if (!attempt.done ||
        (attempt.done->conn && PQstatus(attempt.done->conn) != CONNECTION_OK &&
         PQstatus(attempt.done->conn) != CONNECTION_BAD)) {
        if (attempt.done) {
            PQfinish(attempt.done->conn);
        }
        throw unreachable(no_answer_within(
            own_timeout, "a host name the resolver did not look up, or a server "
                         "that did not answer"));
    }
    return *attempt.done;
}

// The error for a connection refused before any traffic.
[[noreturn]] void throw_refused_at_start(PGconn* c, std::string const& conninfo)
{
    auto const msg = redact_secrets(one_line(PQerrorMessage(c)), conninfo) +
                     unnamed_database_hint(conninfo, std::getenv);
    // A Unix socket is tried at once, before the poll: a local server that is
    // down (no socket file, or a stale one) fails here. Its message names the
    // socket file in any language. So does a host name whose lookup fails
    // for now.
    if (msg.find("/.s.PGSQL.") != std::string::npos || host_lookup_failing_for_now(c)) {
        throw unreachable(msg);
    }
    // Else refused before any traffic: an option value libpq rejects, or a
    // host name that does not exist.
    throw config_error{fmt::format("cannot connect to the database: {}", msg)};
}

// The error for a connection that ended refused: refused credentials, a
// missing database or role, a bad option value are the operator's to fix; no
// answer, too many connections or a server starting up may pass by itself.
// Decided by the SQLSTATE and libpq's state, never by the server's words
// (they are translated); PgBouncer's own are not (pooler_refused_for_good).
[[noreturn]] void throw_refused(PGconn* c, std::string const& conninfo)
{
    std::string const msg =
        redact_secrets(one_line(without_locations(PQerrorMessage(c))), conninfo) +
        unnamed_database_hint(conninfo, std::getenv);
    auto const state = sqlstate_in_message(msg);
    if (PQconnectionNeedsPassword(c) || (state && !is_transient_sqlstate(*state)) ||
        pooler_refused_for_good(msg)) {
        throw config_error{fmt::format("cannot connect to the database: {}", msg)};
    }
    if (!state && tls_refused_by_live_server(c)) {
        throw config_error{
            fmt::format("cannot connect to the database over TLS, though the server "
                        "is up (change sslmode, sslrootcert, sslcert or sslkey; a "
                        "retry will not help): {}",
                        msg)};
    }
    throw unreachable(msg);
}

// The session's settings, and those a transaction must repeat with SET LOCAL
// behind a pooler (which carries only the reported settings, time zone and
// date style, to each server connection).
//
// Timestamps in and out as UTC ISO 8601, whatever the server's setting;
// floats as text that reads back to the same double (a database set to
// extra_float_digits = -15 sent 0.851 as "0.9" and moved validate's
// estimates); a backslash in a literal is a backslash (a legacy
// standard_conforming_strings = off read the patterns' '\d' as 'd'); and the
// server finds a client that vanished as the client finds it, ending the
// backend and any lock it holds. JIT off: it compiled the tools' statements
// for 30–500 ms each and won none of it back (build-weights 2.6–3.0 s against
// 2.45 at 10⁶ rows, validate 5.7 against 5.2, learn-replies' write 0.55
// against 0.22). A database's own limits on a session's idle time and a
// transaction's length (a managed one may set them) are off: the first ended
// scrape-metrics' session while X answered slower than it between
// transactions, the second (PostgreSQL 17) would end plan's transaction while
// its writer writes; the tools bound their own work (statement_timeout and
// idle_in_transaction_session_timeout, `settings`), and the run's end closes
// the session. Read committed, whatever the database's default: the tools'
// statements assume it (an update that waited for the bot's row goes on with
// the row as committed; under serializable it failed with 40001), and every
// transaction begins with it too (transaction::transaction), for a pooler.
std::pair<std::string, std::string>
session_settings(std::vector<std::pair<std::string, std::string>> const& settings,
                 int server_version)
{
    std::string set = fmt::format(
        "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET IntervalStyle = 'iso_8601'; "
        "SET extra_float_digits = 3; SET standard_conforming_strings = on; "
        "SET jit = off; SET idle_session_timeout = 0; "
        "SET default_transaction_isolation = 'read committed'; "
        "SET tcp_keepalives_idle = {}; SET tcp_keepalives_interval = {}; "
        "SET tcp_keepalives_count = {}",
        keepalive_idle_s, keepalive_interval_s, keepalive_count);
    std::string local = "SET LOCAL extra_float_digits = 3; SET LOCAL jit = off";
    if (server_version >= 170000) {
        set += "; SET transaction_timeout = 0";
        local += "; SET LOCAL transaction_timeout = 0";
    }
    for (auto const& [name, value] : settings) {
        set += fmt::format("; SET {} = {}", quote_ident(name), quote_literal(value));
        local +=
            fmt::format("; SET LOCAL {} = {}", quote_ident(name), quote_literal(value));
    }
    return {set, local};
}

} // namespace

bool pooler_refused_for_good(std::string_view message)
{
    if (sqlstate_in_message(message) != "08P01") {
        return false;
    }
    auto const text = to_lower(message);
    for (auto const* words : {"no such database", "no such user", "authentication failed",
                              "bouncer config error"}) {
        if (text.find(words) != std::string::npos) {
            return true;
        }
    }
    return false;
}

std::optional<std::string> sqlstate_in_message(std::string_view message)
{
    // "<severity>:  <5 digits or capitals>: ", the last occurrence
    std::optional<std::string> found;
    for (std::size_t at = message.find(":  "); at != std::string_view::npos;
         at = message.find(":  ", at + 1)) {
        auto const code = message.substr(at + 3, 7);
        if (code.size() == 7 && code.substr(5) == ": " &&
            std::all_of(code.begin(), code.begin() + 5, [](char c) {
                return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
            })) {
            found = std::string{code.substr(0, 5)};
        }
    }
    return found;
}

db_connection::db_connection(
    std::string const& conninfo, std::string const& application_name,
    std::vector<std::pair<std::string, std::string>> const& settings)
    : m_notices(std::make_unique<notice_sink>()), m_conninfo(conninfo)
{
    conninfo_values const given{conninfo};
    // A cron job must not hang on a dead host: 10 s unless the operator says
    // otherwise (keywords given later in the list override earlier ones).
    char const* env_timeout = std::getenv("PGCONNECT_TIMEOUT");
    std::string const timeout = env_timeout && *env_timeout ? env_timeout : "10";
    // A server that vanished without a reset (a network partition, a
    // failover that moved its address) would leave a run waiting for a
    // result for hours: TCP keepalives find it dead within two minutes.
    // Text is UTF-8 on xloop's side whatever the database's encoding (a
    // LATIN1 one converts; its default, the database's, stored UTF-8 bytes
    // as LATIN1 characters): after dbname, so the conninfo cannot change it.
    char const* keys[] = {"connect_timeout",  "fallback_application_name",
                          "keepalives_idle",  "keepalives_interval",
                          "keepalives_count", "dbname",
                          "client_encoding",  nullptr};
    char const* values[] = {
        timeout.c_str(), application_name.c_str(), keepalive_idle_s, keepalive_interval_s,
        keepalive_count, conninfo.c_str(),         "UTF8",           nullptr};
    auto const started = start_connection(keys, values, given, timeout);
    m_conn.reset(started.conn);
    if (!m_conn) {
        throw error{"out of memory allocating a database connection"};
    }
    if (started.failed_at_start) {
        throw_refused_at_start(m_conn.get(), conninfo);
    }
    // Verbose: a server's refusal carries its SQLSTATE, which decides.
    PQsetErrorVerbosity(m_conn.get(), PQERRORS_VERBOSE);
    // The connection string's connect_timeout, if it has one, overrides ours.
    auto const timeout_text =
        connection_option(m_conn.get(), "connect_timeout").value_or(timeout);
    auto const effective_timeout = timeout_seconds(timeout_text);
    if (!wait_for_connection(m_conn.get(), effective_timeout)) {
        throw unreachable(no_answer_within(timeout_text));
    }
    if (PQstatus(m_conn.get()) != CONNECTION_OK) {
        throw_refused(m_conn.get(), conninfo);
    }
    check_server_version(PQserverVersion(m_conn.get()));
    PQsetErrorVerbosity(m_conn.get(), PQERRORS_DEFAULT);
    PQsetNoticeReceiver(m_conn.get(), notice_receiver, m_notices.get());
    auto [set, local] = session_settings(settings, PQserverVersion(m_conn.get()));
    m_local_settings = std::move(local);
    if (server_encoding() == "SQL_ASCII") {
        // Bytes as stored: the server checks what it sends a UTF8 client and
        // refused every statement that read a byte another program wrote in
        // LATIN1 (22021), so one such row stopped the jobs for good. Each
        // transaction too, behind a pooler that does not carry it.
        set += "; SET client_encoding = 'SQL_ASCII'";
        m_local_settings += "; SET LOCAL client_encoding = 'SQL_ASCII'";
    }
    // A pooler (PgBouncer) accepts the connection while the database behind it
    // is down and holds the first statement until its own query_wait_timeout
    // (120 s): that wait is bounded by connect_timeout as well.
    exec_within(set, effective_timeout);
}

db_result db_connection::exec_within(std::string const& sql, long timeout_s)
{
    if (timeout_s <= 0) {
        return exec(sql);
    }
    if (PQsendQuery(m_conn.get(), sql.c_str()) != 1) {
        throw_result_error(nullptr, sql);
    }
    auto const deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds{timeout_s};
    while (PQisBusy(m_conn.get())) {
        auto const waited = interruptible_poll(PQsocket(m_conn.get()), POLLIN, deadline);
        if (waited == poll_result::timed_out) {
            if (PGcancel* c = PQgetCancel(m_conn.get())) {
                char err[256];
                PQcancel(c, err, sizeof err);
                PQfreeCancel(c);
            }
            m_conn.reset(); // the answer may never come: drop the connection
            throw unreachable(fmt::format("connected, but no answer within "
                                          "connect_timeout ({} s): a pooler whose "
                                          "database is down?",
                                          timeout_s));
        }
        // a failed poll or read: PQgetResult reports the socket's error
        if (waited == poll_result::failed || PQconsumeInput(m_conn.get()) != 1) {
            break;
        }
    }
    // Every result; the last failure (or the last result) decides.
    std::optional<db_result> last;
    while (PGresult* r = PQgetResult(m_conn.get())) {
        last.emplace(check(r, sql));
    }
    if (!last) {
        throw_result_error(nullptr, sql);
    }
    return std::move(*last);
}

void db_connection::hold_notices()
{
    m_notices->holding = true;
}

void db_connection::release_notices(bool log_them)
{
    m_notices->holding = false;
    auto held = std::move(m_notices->held);
    m_notices->held.clear();
    if (log_them) {
        for (auto const& [severity, msg] : held) {
            log_notice(m_notices->label, severity, msg.c_str());
        }
    }
}

} // namespace xloop
