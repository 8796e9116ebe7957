#include "migrations.hpp"

#include "adopt.hpp"
#include "advisory_lock.hpp"
#include "interrupt.hpp"
#include "lock_holders.hpp"
#include "log.hpp"
#include "sha256.hpp"
#include "sql_split.hpp"
#include "text.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fmt/ranges.h>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

namespace xloop {

namespace {

// The longest a migration's statement waits for a table another session
// holds before its transaction is rolled back and tried again.
constexpr long table_lock_wait_ms = 2000;

constexpr char const* bootstrap_sql = R"sql(
CREATE SCHEMA IF NOT EXISTS xloop;
CREATE TABLE IF NOT EXISTS xloop.schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms double precision NOT NULL DEFAULT 0
))sql";

// The ledger of migrations, made where it is missing: a role that owns
// nothing (a cron line's) can then run migrate with nothing pending; CREATE
// ... IF NOT EXISTS checks its privilege on the schema first.
bool has_bookkeeping(db_connection& db)
{
    return db.exec("SELECT to_regclass('xloop.schema_migrations') IS NOT NULL")
        .boolean(0, 0);
}

void create_bookkeeping(db_connection& db)
{
    // A first run creates the schema xloop and tables in public: said up front,
    // with what to grant, rather than as the first statement's "permission
    // denied" (on PostgreSQL 15 only public's owner may create in it).
    auto const r = db.exec(R"sql(
SELECT to_regnamespace('xloop') IS NOT NULL OR has_database_privilege(current_database(), 'CREATE'),
       to_regnamespace('public') IS NOT NULL,
       to_regnamespace('public') IS NULL OR has_schema_privilege('public', 'CREATE'),
       current_user, current_database(),
       (SELECT datdba::regrole::text FROM pg_database WHERE datname = current_database()))sql");
    auto const user = r.str(0, 3);
    auto const database = r.str(0, 4);
    if (!r.boolean(0, 1)) {
        throw config_error{fmt::format(
            "database {} has no schema public, where the tables live: create it (CREATE "
            "SCHEMA public AUTHORIZATION {}) and run xloop-migrate again; nothing was "
            "changed",
            quote_ident(database), quote_ident(user))};
    }
    std::vector<std::string> grants;
    if (!r.boolean(0, 0)) {
        grants.push_back(fmt::format("GRANT CREATE ON DATABASE {} TO {}",
                                     quote_ident(database), quote_ident(user)));
    }
    if (!r.boolean(0, 2)) {
        grants.push_back(
            fmt::format("GRANT CREATE ON SCHEMA public TO {}", quote_ident(user)));
    }
    if (!grants.empty()) {
        throw config_error{fmt::format(
            "xloop-migrate creates the schema xloop and its tables in public, which role "
            "{} "
            "may not; nothing was changed. Run it as the database's owner, {}, or have "
            "the owner run: {}",
            user, r.str(0, 5), fmt::join(grants, "; "))};
    }
    db.exec(bootstrap_sql);
}

struct applied_row {
    std::string name;
    std::string checksum;
    std::string applied_at;
};

std::map<int, applied_row> read_applied(db_connection& db)
{
    std::map<int, applied_row> out;
    if (!has_bookkeeping(db)) {
        return out;
    }
    auto const r =
        db.exec("SELECT version, name, checksum, to_char(applied_at AT TIME ZONE 'UTC', "
                "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM xloop.schema_migrations");
    for (int i = 0; i < r.rows(); ++i) {
        out[static_cast<int>(r.i64(i, 0))] = {r.str(i, 1), r.str(i, 2), r.str(i, 3)};
    }
    return out;
}

// The applied migrations `all` does not have (version, row), in order.
std::vector<std::pair<int, applied_row const*>>
unknown_applied(std::vector<migration> const& all,
                std::map<int, applied_row> const& applied)
{
    std::vector<std::pair<int, applied_row const*>> out;
    for (auto const& [version, row] : applied) {
        if (std::none_of(all.begin(), all.end(),
                         [v = version](auto const& m) { return m.version == v; })) {
            out.emplace_back(version, &row);
        }
    }
    return out;
}

bool any_pending(std::vector<migration const*> const& wanted,
                 std::map<int, applied_row> const& applied)
{
    return std::any_of(wanted.begin(), wanted.end(),
                       [&](migration const* m) { return !applied.count(m->version); });
}

// Refuses edited migrations and, unless allowed, pending ones numbered below
// the newest applied (a fresh database would apply them in another order).
void check_history(std::vector<migration> const& all,
                   std::map<int, applied_row> const& applied, apply_options const& opts)
{
    int const newest = applied.empty() ? 0 : applied.rbegin()->first;
    for (auto const& m : all) {
        auto const it = applied.find(m.version);
        if (it != applied.end() && !m.accepts(it->second.checksum)) {
            throw data_error{fmt::format("migration {} ({}) was edited after it was "
                                         "applied on {}: its checksum is {} "
                                         "but {} was recorded; restore the original file "
                                         "and put the change in a new "
                                         "migration",
                                         m.name, m.file, it->second.applied_at,
                                         m.checksum.substr(0, 12),
                                         it->second.checksum.substr(0, 12))};
        }
        if (it == applied.end() && m.version < newest && !opts.allow_out_of_order) {
            throw data_error{fmt::format(
                "migration {} ({}) is pending but numbered below the newest applied "
                "migration "
                "{:04d}; renumber it above {:04d}, or run with --allow-out-of-order",
                m.name, m.file, newest, newest)};
        }
    }
}

// Applied migrations this xloop does not have: the tools are older than the
// schema (rolled back after a newer xloop migrated). Said, never undone.
void warn_unknown(std::vector<migration> const& all,
                  std::map<int, applied_row> const& applied)
{
    std::vector<std::string> unknown;
    for (auto const& [version, row] : unknown_applied(all, applied)) {
        unknown.push_back(row->name);
    }
    if (!unknown.empty()) {
        log::warn("{} {} applied, which this xloop does not have: a newer xloop (or "
                  "another --dir) migrated the database, and these tools may not write "
                  "what its schema expects; run that xloop (migrations are never undone)",
                  fmt::join(unknown, ", "), unknown.size() == 1 ? "is" : "are");
    }
}

[[noreturn]] void lock_timed_out(double timeout_s)
{
    throw temporary_failure{
        fmt::format("another xloop-migrate holds the migration lock (waited {} s); "
                    "try again later or raise --lock-timeout",
                    timeout_s)};
}

template <typename Attempt>
void poll_lock(double timeout_s, Attempt const& attempt)
{
    auto const deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
    bool said = false;
    while (!attempt()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            lock_timed_out(timeout_s);
        }
        if (!said) {
            log::info("waiting up to {} s for another xloop-migrate to finish",
                      timeout_s);
            said = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

// A transaction holding the migration lock. Between attempts the transaction
// is rolled back: a waiter must not keep one open, or the other run's
// CREATE INDEX CONCURRENTLY would wait for it in turn.
std::unique_ptr<transaction> locked_transaction(db_connection& db, double timeout_s)
{
    advisory_lock lock{db, "migrate"};
    std::unique_ptr<transaction> tx;
    poll_lock(timeout_s, [&] {
        tx = std::make_unique<transaction>(db);
        if (lock.try_in_transaction()) {
            return true;
        }
        tx.reset();
        return false;
    });
    // While an ALTER waits for a table another session holds (the bot's
    // transaction, a leaked one idle in it), every query of the bot on that
    // table waits behind the ALTER: a statement waits this long at most, and
    // the transaction is tried again (retry_table_locks), the bot's queries
    // going on in between. 0 would be no limit.
    auto const wait_ms =
        std::clamp(static_cast<long>(timeout_s * 1000), 1L, table_lock_wait_ms);
    db.exec(fmt::format("SET LOCAL lock_timeout = '{}ms'", wait_ms));
    return tx;
}

// A try's server notices, logged when it ends, unless it is to be tried
// again: what they report was rolled back and will be reported again.
class try_notices {
public:
    explicit try_notices(db_connection& db) : m_db(db) { m_db.hold_notices(); }
    ~try_notices() { m_db.release_notices(!m_tried_again); }
    try_notices(try_notices const&) = delete;
    try_notices& operator=(try_notices const&) = delete;
    void tried_again() noexcept { m_tried_again = true; }

private:
    db_connection& m_db;
    bool m_tried_again = false;
};

// Runs `attempt` (one transaction, rolled back when it throws) again while a
// table lock another session holds stops it (55P03 after table_lock_wait_ms),
// until --lock-timeout has passed since the first try; then exits 75 naming
// the sessions it waited for.
template <typename Attempt>
auto retry_table_locks(db_connection& db, double timeout_s, Attempt const& attempt)
{
    using namespace std::chrono;
    auto const deadline =
        steady_clock::now() + milliseconds(static_cast<long>(timeout_s * 1000));
    auto pause = milliseconds{500};
    for (bool said = false;; said = true) {
        try {
            try_notices notices{db};
            try {
                return attempt();
            } catch (db_error const& e) {
                if (e.sqlstate() == "55P03") {
                    notices.tried_again();
                }
                throw;
            }
        } catch (db_error const& e) {
            if (e.sqlstate() != "55P03") {
                throw;
            }
        }
        auto const named = table_lock_holders(db);
        if (steady_clock::now() + pause >= deadline) {
            throw temporary_failure{fmt::format(
                "waited {} s (--lock-timeout) for tables other sessions hold; the "
                "migration in progress was rolled back: {}. {}; or run xloop-migrate "
                "when the bot is quiet",
                timeout_s, named, leaked_session_hint)};
        }
        if (!said) {
            log::warn("a migration waits for tables other sessions hold: {}; trying "
                      "again for up to {} s (--lock-timeout), the bot's queries going "
                      "on between tries",
                      named, timeout_s);
        }
        interruptible_sleep(pause);
        pause = std::min(pause * 2, milliseconds{4000});
    }
}

// Session-scoped lock for migrations that cannot run in a transaction.
class session_migration_lock {
public:
    session_migration_lock(db_connection& db, double timeout_s) : m_lock(db, "migrate")
    {
        poll_lock(timeout_s, [this] { return m_lock.try_for_session(); });
    }

private:
    advisory_lock m_lock; // released when it goes
};

// A CREATE INDEX CONCURRENTLY statement, as xloop's migrations write them:
// the index, its schema-qualified table, and where the keyword stands.
struct concurrent_index {
    std::string name;
    std::string table;
    std::size_t keyword_at = 0;
    std::size_t keyword_size = 0;
};

std::optional<concurrent_index> concurrent_index_of(std::string const& stmt)
{
    static std::regex const index_re{
        R"(CREATE\s+(UNIQUE\s+)?INDEX\s+(CONCURRENTLY)\s+(IF\s+NOT\s+EXISTS\s+)?(\w+)\s+ON\s+(ONLY\s+)?([\w.]+))",
        std::regex::icase};
    std::smatch match;
    if (!std::regex_search(stmt, match, index_re)) {
        return std::nullopt;
    }
    return concurrent_index{match[4].str(), match[6].str(),
                            static_cast<std::size_t>(match.position(2)),
                            static_cast<std::size_t>(match.length(2))};
}

// PostgreSQL builds no index CONCURRENTLY on a partitioned table (an
// operator's follower_snapshots or reply_opportunities partitioned by time):
// there it is built plainly, on every partition, and writes to the table
// wait until it is done.
bool is_partitioned(db_connection& db, std::string const& table)
{
    return db
        .exec("SELECT coalesce((SELECT relkind = 'p' FROM pg_class "
              "WHERE oid = to_regclass($1)), false)",
              table)
        .boolean(0, 0);
}

// The statement to run: without CONCURRENTLY where is_partitioned.
std::string index_statement_for(db_connection& db, migration const& m,
                                std::string const& stmt)
{
    auto const index = concurrent_index_of(stmt);
    if (!index || !is_partitioned(db, index->table)) {
        return stmt;
    }
    log::info("{}: {} is partitioned: index {} is built without CONCURRENTLY, and "
              "writes to it wait until it is built",
              m.name, index->table, index->name);
    auto out = stmt;
    out.erase(index->keyword_at, index->keyword_size);
    return out;
}

void run_statements(db_connection& db, migration const& m)
{
    // The migrations' comments and one function's text have characters a
    // LATIN1 database has not: sent unconverted (as they were before xloop
    // asked for UTF-8), they are stored byte for byte and read back so.
    bool const raw_bytes = !db.holds_any_text();
    if (raw_bytes) {
        db.exec("SET client_encoding = 'SQL_ASCII'");
    }
    for (auto const& stmt : split_sql(m.sql)) {
        try {
            db.exec(m.transactional ? stmt.text : index_statement_for(db, m, stmt.text));
        } catch (db_error const& e) {
            if (e.sqlstate() == "55P03") {
                throw; // a table another session holds: tried again
            }
            int const line =
                e.position() > 0 ? line_of_position(stmt, e.position()) : stmt.line;
            auto const msg =
                fmt::format("{}:{}: migration {} failed, nothing of it was kept: {}",
                            m.file, line, m.name, e.what());
            if (is_transient_sqlstate(e.sqlstate())) {
                throw temporary_failure{msg};
            }
            throw data_error{msg};
        }
    }
    if (raw_bytes) {
        db.exec("SET client_encoding = 'UTF8'");
    }
}

} // namespace

migration make_migration(std::string const& file_name, std::string const& shown_as,
                         std::string sql, std::optional<std::string> checksum)
{
    static std::regex const pattern{R"(^(\d{4})_([a-z0-9_]+)\.sql$)"};
    std::smatch m;
    if (!std::regex_match(file_name, m, pattern)) {
        throw config_error{fmt::format("migration file '{}' is not named NNNN_name.sql "
                                       "(four digits, lower-case name)",
                                       shown_as)};
    }
    migration out;
    out.version = std::stoi(m[1]);
    out.name = file_name.substr(0, file_name.size() - 4);
    out.file = shown_as;
    out.checksum = checksum ? std::move(*checksum) : sha256_hex(sql);
    out.transactional = sql.rfind("-- xloop:no-transaction", 0) != 0;
    std::istringstream lines{sql};
    for (std::string line; std::getline(lines, line);) {
        constexpr std::string_view valid = "-- xloop:valid-checksum ";
        constexpr std::string_view skip = "-- xloop:skip-if ";
        if (line.rfind(valid, 0) == 0) {
            out.valid_checksums.push_back(trim(line.substr(valid.size())));
        } else if (line.rfind(skip, 0) == 0) {
            out.skip_if = trim(line.substr(skip.size()));
        }
    }
    out.sql = std::move(sql);
    return out;
}

bool migration::accepts(std::string const& applied_checksum) const
{
    return applied_checksum == checksum ||
           std::find(valid_checksums.begin(), valid_checksums.end(), applied_checksum) !=
               valid_checksums.end();
}

namespace {
std::vector<migration> sorted_checked(std::vector<migration> all)
{
    std::sort(all.begin(), all.end(),
              [](auto const& a, auto const& b) { return a.version < b.version; });
    for (std::size_t i = 1; i < all.size(); ++i) {
        if (all[i].version == all[i - 1].version) {
            throw config_error{
                fmt::format("two migrations have version {:04d}: {} and {}",
                            all[i].version, all[i - 1].file, all[i].file)};
        }
    }
    return all;
}
} // namespace

std::vector<migration> embedded_migrations()
{
    std::vector<migration> out;
    for (auto& f : embedded_sql_files()) {
        out.push_back(make_migration(f.name, "sql/" + f.name, std::move(f.sql),
                                     std::move(f.checksum)));
    }
    return sorted_checked(std::move(out));
}

std::vector<migration> load_migrations(std::string const& dir)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        throw config_error{fmt::format("--dir: '{}' is not a directory", dir)};
    }
    std::vector<migration> out;
    for (auto const& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".sql") {
            continue;
        }
        std::ifstream in{entry.path(), std::ios::binary};
        std::stringstream ss;
        ss << in.rdbuf();
        out.push_back(make_migration(entry.path().filename().string(),
                                     entry.path().string(), ss.str()));
    }
    return sorted_checked(std::move(out));
}

char const* to_string(migration_state s)
{
    switch (s) {
    case migration_state::applied:
        return "applied";
    case migration_state::pending:
        return "pending";
    case migration_state::edited:
        return "edited";
    case migration_state::unknown:
        return "unknown";
    }
    return "?";
}

std::vector<migration_status> read_status(db_connection& db,
                                          std::vector<migration> const& all)
{
    auto const applied = read_applied(db);
    int const newest = applied.empty() ? 0 : applied.rbegin()->first;
    std::vector<migration_status> out;
    for (auto const& m : all) {
        migration_status s{m.version, m.name, migration_state::pending, std::nullopt,
                           false};
        if (auto const it = applied.find(m.version); it != applied.end()) {
            s.state = m.accepts(it->second.checksum) ? migration_state::applied
                                                     : migration_state::edited;
            s.applied_at = it->second.applied_at;
        } else {
            s.out_of_order = m.version < newest;
        }
        out.push_back(std::move(s));
    }
    // Applied here by a newer xloop (or from another --dir): say so.
    for (auto const& [version, row] : unknown_applied(all, applied)) {
        out.push_back(
            {version, row->name, migration_state::unknown, row->applied_at, false});
    }
    std::sort(out.begin(), out.end(),
              [](auto const& a, auto const& b) { return a.version < b.version; });
    return out;
}

migration_counts migration_states(db_connection& db)
{
    auto const embedded = embedded_migrations();
    migration_counts out;
    out.total = static_cast<int>(embedded.size());
    for (auto const& s : read_status(db, embedded)) {
        if (s.state == migration_state::pending && out.pending++ == 0) {
            out.first_pending = s.name;
        }
        if (s.state == migration_state::edited && out.edited++ == 0) {
            out.first_edited = s.name;
        }
        if (s.state == migration_state::unknown) {
            out.unknown.push_back(s.name);
        }
    }
    return out;
}

namespace {

// Appends the schema diff to the account, leaving out relations a line
// already tells about (a kept view is also "redefined" in the diff).
void add_changes(std::vector<std::string>& account, std::vector<std::string> const& diff)
{
    auto const name_of = [](std::string const& line) {
        return line.substr(0, line.find(':'));
    };
    for (auto const& line : diff) {
        if (std::none_of(account.begin(), account.end(),
                         [&](auto const& a) { return name_of(a) == name_of(line); })) {
            account.push_back(line);
        }
    }
}

// What a dry run can say of a migration it cannot run in its transaction:
// the indexes it builds (CREATE INDEX CONCURRENTLY IF NOT EXISTS, as xloop's
// do), each to be built or there already; of any other statement, nothing.
std::string outside_transaction_account(db_connection& db, migration const& m)
{
    std::vector<std::string> build, there;
    for (auto const& stmt : split_sql(m.sql)) {
        auto const index = concurrent_index_of(stmt.text);
        if (!index) {
            continue;
        }
        // the index lives in its table's schema; names are plain (\w+)
        auto const dot = index->table.find('.');
        auto const schema =
            dot == std::string::npos ? "" : index->table.substr(0, dot + 1);
        if (db.exec("SELECT to_regclass($1) IS NOT NULL", schema + index->name)
                .boolean(0, 0)) {
            there.push_back(index->name);
        } else if (is_partitioned(db, index->table)) {
            build.push_back(fmt::format("{} ({} is partitioned: not concurrently)",
                                        index->name, index->table.substr(schema.size())));
        } else {
            build.push_back(index->name);
        }
    }
    if (build.empty() && there.empty()) {
        return fmt::format("{}: runs outside a transaction, so its changes are not shown "
                           "here",
                           m.name);
    }
    std::string out = fmt::format("{}: runs outside a transaction", m.name);
    if (!build.empty()) {
        out +=
            fmt::format("; would build {} {} (CONCURRENTLY: writes go on meanwhile)",
                        build.size() == 1 ? "index" : "indexes", fmt::join(build, ", "));
    }
    if (!there.empty()) {
        out += fmt::format("; {} there already", fmt::join(there, ", "));
    }
    return out;
}

// Runs one migration's statements in the caller's transaction, with the
// original's views kept (see kept_views) and NOTICEs ("already exists,
// skipping") left out of the output; WARNINGs (data converged) still show.
std::vector<std::string> run_in_transaction(db_connection& db, migration const& m)
{
    set_local_settings(db, {{"client_min_messages", "warning"}});
    kept_views kept{db};
    run_statements(db, m);
    return kept.restore();
}

// An edited file that lists earlier texts as valid is recorded as the first
// of them: every xloop since that text takes it as applied, so going back to
// an older xloop after this one migrated finds no migration "edited".
void record_applied(db_connection& db, migration const& m, double ms)
{
    db.exec(R"sql(
        INSERT INTO xloop.schema_migrations (version, name, checksum, duration_ms)
        VALUES ($1, $2, $3, $4)
        )sql",
            m.version, m.name,
            m.valid_checksums.empty() ? m.checksum : m.valid_checksums.front(), ms);
}

// The server's warnings under a dry run (duplicates moved aside, maps
// deactivated) report changes that are rolled back: they say so.
class dry_run_notices {
public:
    explicit dry_run_notices(db_connection& db) : m_db(db)
    {
        m_db.set_notice_label("server (dry run, rolled back)");
    }
    ~dry_run_notices() { m_db.set_notice_label("server"); }
    dry_run_notices(dry_run_notices const&) = delete;
    dry_run_notices& operator=(dry_run_notices const&) = delete;

private:
    db_connection& m_db;
};

// Whether `m`'s skip-if query gives a reason to leave it out; the reason is
// logged, `as` saying how ("skipped", "would be skipped").
bool skipped(db_connection& db, migration const& m, std::string_view as)
{
    if (m.skip_if.empty()) {
        return false;
    }
    auto const r = db.exec(m.skip_if);
    if (r.rows() == 0 || r.is_null(0, 0)) {
        return false;
    }
    log::warn("{} {} (recorded as applied): {}", m.name, as, r.str(0, 0));
    return true;
}

// --dry-run: every pending migration that can run in a transaction runs in one
// that is rolled back, so the account says what a real run would change.
apply_result dry_run_once(db_connection& db, std::vector<migration const*> const& wanted,
                          std::vector<migration> const& all, apply_options const& opts,
                          schema_shape const& before)
{
    apply_result result;
    auto tx = locked_transaction(db, opts.lock_timeout_s);
    db.exec("SET LOCAL client_min_messages = warning");
    if (!has_bookkeeping(db)) {
        create_bookkeeping(db);
    }
    auto applied = read_applied(db);
    check_history(all, applied, opts);
    check_relation_kinds(db);
    if (any_pending(wanted, applied)) {
        check_owner(db);
    }
    check_column_types(db);
    if (auto const state = inspect_content_table(db);
        state != content_table_state::view_or_absent) {
        adopt_content_table(db, state);
        applied = read_applied(db);
    }
    // the indexes after the tables they are built on
    std::vector<std::string> indexes;
    for (auto const* m : wanted) {
        if (applied.count(m->version)) {
            continue;
        }
        result.would_apply.push_back(m->name);
        if (skipped(db, *m, "would be skipped")) {
            continue;
        }
        if (!m->transactional) {
            indexes.push_back(outside_transaction_account(db, *m));
            continue;
        }
        auto const kept = run_in_transaction(db, *m);
        result.changes.insert(result.changes.end(), kept.begin(), kept.end());
    }
    add_changes(result.changes, describe_changes(before, read_schema_shape(db)));
    result.changes.insert(result.changes.end(), indexes.begin(), indexes.end());
    return result; // the transaction rolls back
}

// dry_run_once, tried again while tables other sessions hold stop it.
apply_result dry_run(db_connection& db, std::vector<migration const*> const& wanted,
                     std::vector<migration> const& all, apply_options const& opts)
{
    dry_run_notices const notices{db};
    auto const before = read_schema_shape(db);
    return retry_table_locks(db, opts.lock_timeout_s,
                             [&] { return dry_run_once(db, wanted, all, opts, before); });
}

// What check_before_applying found: the content table's state, and whether
// any migration is left to apply.
struct preflight {
    content_table_state state;
    bool pending;
    std::optional<schema_shape> before; // on the first run: before the bookkeeping
};

// Checks the history once under the lock before touching anything; looks at
// the content table while at it (adopting it refuses before any change).
preflight check_before_applying(db_connection& db,
                                std::vector<migration const*> const& wanted,
                                std::vector<migration> const& all,
                                apply_options const& opts)
{
    auto tx = locked_transaction(db, opts.lock_timeout_s);
    db.exec("SET LOCAL client_min_messages = warning");
    preflight out{content_table_state::view_or_absent, false, std::nullopt};
    if (!has_bookkeeping(db)) {
        // The account of a first run names xloop's own tables too, as the
        // dry run's does.
        out.before = read_schema_shape(db);
        create_bookkeeping(db);
    }
    auto const applied = read_applied(db);
    check_history(all, applied, opts);
    warn_unknown(all, applied);
    if (!any_pending(wanted, applied)) {
        tx->commit();
        return out;
    }
    check_relation_kinds(db);
    check_owner(db);
    check_column_types(db);
    out.state = inspect_content_table(db);
    out.pending = true;
    tx->commit();
    return out;
}

// CREATE INDEX CONCURRENTLY and friends cannot run in a transaction: these
// need a session (direct connection or session-mode pooler). Already applied
// (every run but the first): no session lock, which through a
// transaction-mode pooler would stay on a server connection. Returns whether
// it applied `m`.
bool apply_outside_transaction(db_connection& db, migration const& m,
                               double lock_timeout_s,
                               std::chrono::steady_clock::time_point start)
{
    if (read_applied(db).count(m.version)) {
        return false;
    }
    session_migration_lock lock{db, lock_timeout_s};
    if (read_applied(db).count(m.version)) {
        return false;
    }
    if (!skipped(db, m, "skipped")) {
        log::info("applying {} (outside a transaction)", m.name);
        // CREATE INDEX CONCURRENTLY waits, holding up no one, for every
        // transaction that writes the table: a leaked one idle in it held
        // migrate for ever, silently.
        db.exec(
            fmt::format("SET lock_timeout = '{}ms'; SET client_min_messages = warning",
                        std::max(1L, static_cast<long>(lock_timeout_s * 1000))));
        try {
            run_statements(db, m);
        } catch (db_error const& e) {
            if (e.sqlstate() != "55P03") {
                throw;
            }
            throw temporary_failure{fmt::format(
                "{} waited {} s (--lock-timeout) for the transactions that write its "
                "table to end: {}. {}; the next xloop-migrate drops the index left "
                "half-built and builds it again",
                m.name, lock_timeout_s, table_lock_holders(db), leaked_session_hint)};
        }
        db.exec("RESET lock_timeout; RESET client_min_messages");
    }
    record_applied(db, m,
                   std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - start)
                       .count());
    return true;
}

// Applies wanted[i] in a transaction of its own under the lock; while the
// original's content table is being adopted, the adoption and every
// transactional migration after it share that transaction (the bot never
// sees a half-converged database). Returns the index of the next migration.
std::size_t apply_transactional(db_connection& db,
                                std::vector<migration const*> const& wanted,
                                std::size_t i, content_table_state& content_state,
                                apply_options const& opts, apply_result& result)
{
    struct applied_here {
        std::size_t next;
        std::vector<std::string> names;
        std::vector<std::string> changes;
    };
    bool const adopting = content_state != content_table_state::view_or_absent;
    int tries = 0;
    auto const done = retry_table_locks(db, opts.lock_timeout_s, [&] {
        ++tries;
        applied_here out{i, {}, {}};
        auto const start = std::chrono::steady_clock::now();
        auto tx = locked_transaction(db, opts.lock_timeout_s);
        if (adopting) {
            // under the lock, again
            if (auto const state = inspect_content_table(db);
                state != content_table_state::view_or_absent) {
                adopt_content_table(db, state);
            }
        }
        auto const applied = read_applied(db);
        do {
            auto const& m = *wanted[out.next++];
            if (applied.count(m.version)) {
                continue; // another run applied it meanwhile
            }
            if (!skipped(db, m, "skipped")) {
                if (tries == 1) {
                    log::info("applying {}", m.name);
                }
                auto const kept = run_in_transaction(db, m);
                out.changes.insert(out.changes.end(), kept.begin(), kept.end());
            }
            record_applied(db, m,
                           std::chrono::duration<double, std::milli>(
                               std::chrono::steady_clock::now() - start)
                               .count());
            out.names.push_back(m.name);
        } while (adopting && out.next < wanted.size() && wanted[out.next]->transactional);
        tx->commit();
        return out;
    });
    content_state = content_table_state::view_or_absent;
    result.changes.insert(result.changes.end(), done.changes.begin(), done.changes.end());
    result.applied.insert(result.applied.end(), done.names.begin(), done.names.end());
    return done.next;
}

} // namespace

apply_result apply_migrations(db_connection& db, std::vector<migration> const& all,
                              apply_options const& opts)
{
    std::vector<migration const*> wanted;
    for (auto const& m : all) {
        if (!opts.up_to || m.version <= *opts.up_to) {
            wanted.push_back(&m);
        }
    }
    if (opts.dry_run) {
        return dry_run(db, wanted, all, opts);
    }

    apply_result result;
    auto const checked = retry_table_locks(db, opts.lock_timeout_s, [&] {
        return check_before_applying(db, wanted, all, opts);
    });
    if (!checked.pending) {
        return result; // up to date: no transaction per migration, no catalog read
    }
    auto content_state = checked.state;
    auto const before = checked.before ? *checked.before : read_schema_shape(db);

    // Each migration in its own transaction, under a transaction-scoped lock:
    // no session state is kept between them, so this works behind a
    // transaction-mode pooler; a concurrent run re-checks and skips.
    std::size_t i = 0;
    while (i < wanted.size()) {
        if (wanted[i]->transactional) {
            i = apply_transactional(db, wanted, i, content_state, opts, result);
            continue;
        }
        auto const& m = *wanted[i++];
        if (apply_outside_transaction(db, m, opts.lock_timeout_s,
                                      std::chrono::steady_clock::now())) {
            result.applied.push_back(m.name);
        }
    }

    if (!result.applied.empty()) {
        add_changes(result.changes, describe_changes(before, read_schema_shape(db)));
        // PostgREST / Supabase reload their schema cache on this (defect 4).
        db.exec("NOTIFY pgrst, 'reload schema'");
    }
    return result;
}

} // namespace xloop
