#include "adopt.hpp"

#include "json_text.hpp"
#include "log.hpp"
#include "schema.hpp"

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <set>
#include <sstream>
#include <tuple>

namespace xloop {

namespace {

constexpr char const* shape_sql = R"sql(
SELECT n.nspname || '.' || c.relname,
       c.oid::text,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table'
                      WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                      WHEN 'f' THEN 'foreign table' ELSE 'index' END,
       CASE WHEN c.relkind IN ('i', 'I') THEN '[]'
            ELSE coalesce((SELECT json_agg(a.attname ORDER BY a.attnum)
                             FROM pg_attribute a
                            WHERE a.attrelid = c.oid AND a.attnum > 0
                              AND NOT a.attisdropped), '[]') END,
       CASE WHEN c.relkind IN ('v', 'm') THEN md5(pg_get_viewdef(c.oid)) ELSE '' END,
       coalesce((SELECT tn.nspname || '.' || t.relname FROM pg_index i
                   JOIN pg_class t ON t.oid = i.indrelid
                   JOIN pg_namespace tn ON tn.oid = t.relnamespace
                  WHERE i.indexrelid = c.oid), '')
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('public', 'xloop')
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'i', 'I'))sql";

constexpr char const* relkinds_sql = R"sql(
SELECT (SELECT relkind::text FROM pg_class
         WHERE oid = to_regclass('public.content_metadata')),
       (SELECT relkind::text FROM pg_class
         WHERE oid = to_regclass('public.content_generation_metadata_comprehensive')))sql";

// The tables and views content_metadata reads, through views it reads, and
// whether the base table is among them.
constexpr char const* view_reads_sql = R"sql(
WITH RECURSIVE reads(oid) AS (
    SELECT 'public.content_metadata'::regclass::oid
  UNION
    SELECT d.refobjid
      FROM reads
      JOIN pg_rewrite r ON r.ev_class = reads.oid
      JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                      AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> reads.oid)
SELECT coalesce(to_regclass('public.content_generation_metadata_comprehensive')
                  IN (SELECT oid FROM reads), false),
       (SELECT string_agg(c.oid::regclass::text, ', ' ORDER BY c.oid::regclass::text)
          FROM reads JOIN pg_class c USING (oid)
         WHERE c.relkind IN ('r', 'p', 'm', 'f')))sql";

// What else hangs on a relation: views reading it and foreign keys into it.
constexpr char const* dependents_sql = R"sql(
SELECT (SELECT count(DISTINCT r.ev_class) FROM pg_depend d
          JOIN pg_rewrite r ON r.oid = d.objid
         WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = $1::regclass
           AND r.ev_class <> $1::regclass)
     + (SELECT count(*) FROM pg_constraint WHERE confrelid = $1::regclass))sql";

// The GRANT statements that give a relation the privileges of an ACL, except
// its owner's (they come with ownership).
constexpr char const* grants_sql = R"sql(
SELECT format('GRANT %s ON public.content_metadata TO %s%s', a.privilege_type,
              CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END,
              CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
  FROM aclexplode($1::aclitem[]) a
 WHERE a.grantee <> $2::regrole)sql";

bool is_table(std::optional<std::string> const& relkind)
{
    return relkind && (*relkind == "r" || *relkind == "p");
}

std::string kind_name(std::string const& relkind)
{
    if (relkind == "r" || relkind == "p") {
        return "a table";
    }
    if (relkind == "v") {
        return "a view";
    }
    if (relkind == "m") {
        return "a materialized view";
    }
    return "a relation of kind '" + relkind + "'";
}

std::string shown_name(std::string const& qname)
{
    return qname.rfind("public.", 0) == 0 ? qname.substr(7) : qname;
}

std::string list_text(std::vector<std::string> const& items)
{
    constexpr std::size_t shown = 6;
    std::string out;
    for (std::size_t i = 0; i < items.size() && i < shown; ++i) {
        out += (i ? ", " : "") + items[i];
    }
    if (items.size() > shown) {
        out += fmt::format(", … ({} in all)", items.size());
    }
    return out;
}

std::vector<std::string> minus(std::vector<std::string> const& a,
                               std::vector<std::string> const& b)
{
    std::vector<std::string> out;
    for (auto const& x : a) {
        if (std::find(b.begin(), b.end(), x) == b.end()) {
            out.push_back(x);
        }
    }
    return out;
}

// What changed in one relation that kept its name or was renamed: "" if nothing.
std::string column_changes(relation_shape const& before, relation_shape const& after)
{
    std::vector<std::string> parts;
    if (auto const added = minus(after.columns, before.columns); !added.empty()) {
        parts.push_back("columns added: " + list_text(added));
    }
    if (auto const removed = minus(before.columns, after.columns); !removed.empty()) {
        parts.push_back("columns removed: " + list_text(removed));
    }
    if (parts.empty() && before.definition != after.definition) {
        parts.push_back(after.kind + " redefined");
    }
    std::string out;
    for (auto const& p : parts) {
        out += (out.empty() ? "" : "; ") + p;
    }
    return out;
}

} // namespace

schema_shape read_schema_shape(db_connection& db)
{
    schema_shape out;
    auto const r = db.exec(shape_sql);
    for (int i = 0; i < r.rows(); ++i) {
        relation_shape s;
        s.oid = r.str(i, 1);
        s.kind = r.str(i, 2);
        s.columns = nlohmann::json::parse(r.get(i, 3)).get<std::vector<std::string>>();
        s.definition = r.str(i, 4);
        s.table = r.str(i, 5);
        out.emplace(r.str(i, 0), std::move(s));
    }
    return out;
}

namespace {

// describe_changes' lines, one per relation in the order first told; a
// relation's changes (renamed, created, dropped, columns and grants changed)
// share its line, and indexes are told on their table's.
class change_lines {
public:
    change_lines(schema_shape const& before, schema_shape const& after)
        : m_before(before), m_after(after)
    {
        for (auto const& [name, s] : before) {
            m_before_by_oid[s.oid] = name;
        }
        for (auto const& [name, s] : after) {
            m_after_oids.insert(s.oid);
        }
    }

    // Renamed relations; whatever took the old name is told on the same line.
    void renamed()
    {
        for (auto const& [name, now] : m_after) {
            auto const old_name = m_before_by_oid.find(now.oid);
            if (now.kind == "index" || old_name == m_before_by_oid.end() ||
                old_name->second == name) {
                continue;
            }
            auto const& was = m_before.at(old_name->second);
            add(old_name->second,
                fmt::format("{} renamed to {}", was.kind, shown_name(name)));
            if (auto const c = column_changes(was, now); !c.empty()) {
                add(old_name->second, c);
            }
            if (auto const taken = m_after.find(old_name->second);
                taken != m_after.end()) {
                add(old_name->second,
                    fmt::format("{} is now a {}", shown_name(old_name->second),
                                taken->second.kind));
                m_said.insert(old_name->second);
            }
            m_said.insert(name);
        }
    }

    // Relations created, replaced by another kind, or changed in place.
    void created_or_changed()
    {
        for (auto const& [name, now] : m_after) {
            if (m_said.count(name) || now.kind == "index") {
                continue;
            }
            auto const was = m_before.find(name);
            if (was == m_before.end()) {
                if (!m_before_by_oid.count(now.oid)) {
                    add(name, now.kind + " created");
                    m_created.insert(name);
                }
            } else if (was->second.kind != now.kind) {
                add(name, fmt::format("{} created in place of a {}", now.kind,
                                      was->second.kind));
            } else if (auto const c = column_changes(was->second, now); !c.empty()) {
                add(name, c);
            }
        }
    }

    // Indexes added to tables that were not created (those come with theirs).
    void indexes_added()
    {
        std::map<std::string, std::vector<std::string>> new_indexes;
        for (auto const& [name, now] : m_after) {
            if (now.kind == "index" && !m_before.count(name) &&
                !m_before_by_oid.count(now.oid) && !m_created.count(now.table)) {
                new_indexes[now.table].push_back(name.substr(name.find('.') + 1));
            }
        }
        for (auto const& [table, names] : new_indexes) {
            add(table, (names.size() == 1 ? "index added: " : "indexes added: ") +
                           list_text(names));
        }
    }

    void dropped()
    {
        for (auto const& [name, was] : m_before) {
            if (!m_after.count(name) && !m_after_oids.count(was.oid)) {
                add(name, was.kind + " dropped");
            }
        }
    }

    std::vector<std::string> take()
    {
        std::vector<std::string> out;
        for (auto& [name, text] : m_lines) {
            out.push_back(std::move(text));
        }
        return out;
    }

private:
    void add(std::string const& name, std::string const& part)
    {
        auto& text = line_of(name);
        text += (text.back() == ':' ? " " : "; ") + part;
    }

    std::string& line_of(std::string const& name)
    {
        for (auto& [n, text] : m_lines) {
            if (n == name) {
                return text;
            }
        }
        m_lines.emplace_back(name, shown_name(name) + ":");
        return m_lines.back().second;
    }

    schema_shape const& m_before;
    schema_shape const& m_after;
    std::map<std::string, std::string> m_before_by_oid;
    std::set<std::string> m_after_oids;
    std::vector<std::pair<std::string, std::string>> m_lines;
    std::set<std::string> m_said;    // relations of `after` already on a line
    std::set<std::string> m_created; // tables whose indexes need no mention
};

} // namespace

std::vector<std::string> describe_changes(schema_shape const& before,
                                          schema_shape const& after)
{
    change_lines lines{before, after};
    lines.renamed();
    lines.created_or_changed();
    lines.indexes_added();
    lines.dropped();
    return lines.take();
}

namespace {

// A content_metadata view over another table than the base table (the bot's
// rows under another name) would be made the view over xloop's empty one:
// the bot's rows would no longer show through it, and the bot's writes to
// its own table would not either.
void check_view_reads_base(db_connection& db)
{
    auto const r = db.exec(view_reads_sql);
    if (r.boolean(0, 0)) {
        return;
    }
    auto const tables = r.opt_str(0, 1);
    auto const rows = db.exec("SELECT count(*) FROM public.content_metadata").i64(0, 0);
    throw data_error{fmt::format(
        "content_metadata is a view over {} ({} rows through it), not over "
        "content_generation_metadata_comprehensive: xloop would make it the view over "
        "that table, and the rows it shows now would no longer show; changed nothing. "
        "If {} holds the bot's content, give it the name xloop keeps it under (ALTER "
        "TABLE … RENAME TO content_generation_metadata_comprehensive), then run "
        "xloop-migrate again; if content_metadata is your own, move it aside (ALTER "
        "VIEW public.content_metadata RENAME TO content_metadata_old)",
        tables ? *tables : "no table", rows,
        tables ? (tables->find(',') == std::string::npos ? "that table" : "one of them")
               : "a table of another name")};
}

} // namespace

content_table_state inspect_content_table(db_connection& db)
{
    auto const r = db.exec(relkinds_sql);
    auto const content = r.opt_str(0, 0);
    auto const base = r.opt_str(0, 1);
    if (content == "v") {
        check_view_reads_base(db);
    }
    if (!is_table(content)) {
        return content_table_state::view_or_absent;
    }
    if (!base) {
        return content_table_state::table;
    }
    auto const refuse = [&](std::string const& what) -> content_table_state {
        throw data_error{fmt::format(
            "content_metadata is a table ({} rows) and "
            "content_generation_metadata_comprehensive already exists as {}: xloop "
            "cannot tell which one holds the bot's content, and changed nothing. "
            "Rename the one not in use (e.g. ALTER TABLE … RENAME TO …_old), then run "
            "xloop-migrate again",
            db.exec("SELECT count(*) FROM public.content_metadata").i64(0, 0), what)};
    };
    if (!is_table(base)) {
        return refuse(kind_name(*base));
    }
    auto const rows =
        db.exec("SELECT count(*) FROM public.content_generation_metadata_comprehensive")
            .i64(0, 0);
    auto const dependents =
        db.exec(dependents_sql, "public.content_generation_metadata_comprehensive")
            .i64(0, 0);
    if (rows > 0 || dependents > 0) {
        return refuse(fmt::format(
            "a table with {} rows and {} views or foreign keys on it", rows, dependents));
    }
    return content_table_state::table_beside_empty_base;
}

namespace {

// How every refusal of a column's type ends: the ALTERs are the operator's.
constexpr char const* then_migrate_again =
    ", then run xloop-migrate again (ALTER refuses while a view reads the column: drop "
    "those first; xloop-migrate recreates content_metadata and vw_learning, your own "
    "views are yours to recreate)";

// Every column of the tables the checks name, in one plain read of the
// catalogue (every validate makes it): the rules are applied here.
constexpr char const* columns_sql = R"sql(
SELECT t.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid::regtype::text,
       a.atttypmod, a.atthasdef,
       CASE WHEN y.typtype = 'e'
            THEN (SELECT json_agg(enumlabel ORDER BY enumsortorder)::text
                    FROM pg_enum WHERE enumtypid = a.atttypid) END
  FROM pg_class t
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type y ON y.oid = a.atttypid
 WHERE t.relkind IN ('r', 'p')
   AND t.oid IN (to_regclass('public.content_metadata'),
                 to_regclass('public.content_generation_metadata_comprehensive'),
                 to_regclass('public.outcomes'), to_regclass('public.follower_snapshots'),
                 to_regclass('public.reply_opportunities'),
                 to_regclass('public.discovered_accounts'),
                 to_regclass('public.learning_model_weights')))sql";

bool is_text_type(std::string const& t)
{
    return t == "text" || t == "character varying" || t == "character";
}

bool is_integer_type(std::string const& t)
{
    return t == "smallint" || t == "integer" || t == "bigint";
}

bool is_number_type(std::string const& t)
{
    return is_integer_type(t) || t == "numeric" || t == "real" || t == "double precision";
}

bool is_time_type(std::string const& t)
{
    return t == "timestamp with time zone" || t == "timestamp without time zone";
}

// The content table by either name: content_metadata while it is still the
// table, as the bot replayed it.
constexpr std::array<char const*, 2> content_tables{
    "content_metadata", "content_generation_metadata_comprehensive"};

struct wanted {
    char const* table;
    char const* column;
    char const* type; // value_columns: what it must be; enum_columns: xloop's words
};

constexpr wanted value_columns[] = {
    {"outcomes", "collected_at", "timestamptz"},
    {"follower_snapshots", "snapshot_at", "timestamptz"},
    {"reply_opportunities", "discovered_at", "timestamptz"},
    {"reply_opportunities", "created_at", "timestamptz"},
    {"discovered_accounts", "last_successful_reply_at", "timestamptz"},
    {"learning_model_weights", "created_at", "timestamptz"},
    {"learning_model_weights", "computed_at", "timestamptz"},
    {"outcomes", "impressions", "bigint"},
    {"outcomes", "views", "bigint"},
    {"outcomes", "likes", "bigint"},
    {"outcomes", "retweets", "bigint"},
    {"outcomes", "replies", "bigint"},
    {"outcomes", "quotes", "bigint"},
    {"outcomes", "bookmarks", "bigint"},
    {"outcomes", "profile_clicks", "bigint"},
    {"outcomes", "followers_gained", "bigint"},
    {"outcomes", "engagement_rate", "numeric"},
    {"outcomes", "followers_gained_weighted", "numeric"},
    {"outcomes", "primary_objective_score", "numeric"},
    {"outcomes", "attribution_confidence", "numeric"},
    {"follower_snapshots", "follower_count", "bigint"},
    {"discovered_accounts", "priority_score", "numeric"},
    {"discovered_accounts", "reply_performance_score", "numeric"},
    {"reply_opportunities", "opportunity_score", "numeric"}};

constexpr wanted enum_columns[] = {
    {"content_metadata", "decision_type", "single thread reply"},
    {"content_generation_metadata_comprehensive", "decision_type", "single thread reply"},
    {"content_metadata", "status", "queued posted skipped failed"},
    {"content_generation_metadata_comprehensive", "status",
     "queued posted skipped failed"},
    {"reply_opportunities", "status", "pending replied expired skipped"}};

constexpr std::pair<char const*, char const*> fraction_columns[] = {
    {"outcomes", "engagement_rate"},
    {"outcomes", "followers_gained_weighted"},
    {"outcomes", "primary_objective_score"},
    {"outcomes", "attribution_confidence"},
    {"learning_model_weights", "avg_primary_objective_score"},
    {"learning_model_weights", "avg_followers_gained_weighted"},
    {"discovered_accounts", "priority_score"},
    {"discovered_accounts", "reply_performance_score"}};

using column_map = std::map<std::pair<std::string, std::string>, catalog_column>;

catalog_column const* find(column_map const& m, std::string const& table,
                           std::string const& column)
{
    auto const it = m.find({table, column});
    return it == m.end() ? nullptr : &it->second;
}

bool by_table_then_column(catalog_column const* a, catalog_column const* b)
{
    return std::tie(a->table, a->column) < std::tie(b->table, b->column);
}

// Refuses `rows`, all named at once: why they do not fit, and the ALTER that
// makes each of them `type` (`using_cast`: converting through a cast).
[[noreturn]] void refuse_column_types(std::vector<catalog_column const*> const& rows,
                                      std::string_view why, std::string_view type,
                                      bool using_cast)
{
    std::vector<std::string> columns;
    std::vector<std::string> alters;
    for (auto const* r : rows) {
        columns.push_back(fmt::format("{}.{} is {}", r->table, r->column, r->type));
        alters.push_back(fmt::format(
            "ALTER TABLE public.{0} ALTER COLUMN {1} TYPE {2}{3}", r->table, r->column,
            type, using_cast ? fmt::format(" USING {}::{}", r->column, type) : ""));
    }
    throw data_error{fmt::format("{}: {}; nothing was changed. Make {} {}: {}{}",
                                 fmt::join(columns, ", "), why,
                                 rows.size() == 1 ? "it" : "them", type,
                                 fmt::join(alters, "; "), then_migrate_again)};
}

// decision_id of another type than outcomes' (every view and job joins
// them); a tweet id that is no text (a bigint: X's ids pass 2⁵³, which a
// JSON number cannot hold).
void check_keys(column_map const& m)
{
    auto const* outcome_id = find(m, "outcomes", "decision_id");
    for (auto const* table : content_tables) {
        auto const* id = find(m, table, "decision_id");
        if (id && outcome_id && id->base != outcome_id->base) {
            throw data_error{fmt::format(
                "{0}.decision_id is {1} but outcomes.decision_id is {2}: xloop joins "
                "them "
                "(vw_learning, every job), so their types must match; nothing was "
                "changed. Make them one type, e.g. ALTER TABLE public.outcomes ALTER "
                "COLUMN decision_id TYPE {1} USING decision_id::{1}{3}",
                table, id->type, outcome_id->type, then_migrate_again)};
        }
    }
    std::vector<catalog_column const*> numbers;
    auto const check = [&](std::string const& table, std::string const& column) {
        if (auto const* c = find(m, table, column); c && !is_text_type(c->base)) {
            numbers.push_back(c);
        }
    };
    // in the order named: content_metadata first, then by table and column
    for (auto const* table : content_tables) {
        check(table, "target_tweet_id");
        check(table, "tweet_id");
    }
    check("outcomes", "tweet_id");
    check("reply_opportunities", "tweet_id");
    if (!numbers.empty()) {
        refuse_column_types(numbers,
                            "xloop reads tweet ids as text (as X sends them), and a "
                            "number compares with no text",
                            "text", true);
    }
}

// A time or count the tools compare with times and numbers and compute with,
// held as text, seconds or a date: migrate passed over it and failed in a
// later migration, or every scrape-metrics and plan run exited 70 on
// "operator does not exist".
void check_values(column_map const& m)
{
    std::vector<std::pair<catalog_column const*, std::string>>
        wrong; // column, type wanted
    auto const check = [&](std::string const& table, std::string const& column,
                           std::string const& want) {
        auto const* c = find(m, table, column);
        if (c &&
            (want == "timestamptz" ? !is_time_type(c->base) : !is_number_type(c->base))) {
            wrong.emplace_back(c, want);
        }
    };
    for (auto const* table : content_tables) {
        for (auto const* column : {"posted_at", "scheduled_at", "created_at"}) {
            check(table, column, "timestamptz");
        }
    }
    for (auto const& w : value_columns) {
        check(w.table, w.column, w.type);
    }
    if (wrong.empty()) {
        return;
    }
    std::sort(wrong.begin(), wrong.end(), [](auto const& a, auto const& b) {
        return std::tuple(a.second != "timestamptz", a.first->table, a.first->column) <
               std::tuple(b.second != "timestamptz", b.first->table, b.first->column);
    });
    std::vector<std::string> columns;
    std::vector<std::string> alters;
    bool seconds = false;
    for (auto const& [c, want] : wrong) {
        columns.push_back(fmt::format("{}.{} is {}", c->table, c->column, c->type));
        bool const time = want == "timestamptz";
        bool const from_seconds = time && is_number_type(c->base);
        seconds = seconds || from_seconds;
        // a default of the old type (now() as text or seconds) cannot be
        // cast: it goes first, and a time's comes back as now()
        alters.push_back(fmt::format(
            "ALTER TABLE public.{} {}ALTER COLUMN {} TYPE {} USING {}{}", c->table,
            c->has_default ? fmt::format("ALTER COLUMN {} DROP DEFAULT, ", c->column)
                           : "",
            c->column, want,
            from_seconds
                ? fmt::format("to_timestamp({})", c->column)
                : fmt::format("nullif(btrim({}::text), '')::{}", c->column, want),
            c->has_default && time
                ? fmt::format(", ALTER COLUMN {} SET DEFAULT now()", c->column)
                : ""));
    }
    throw data_error{fmt::format(
        "{}: xloop compares these with times and numbers and computes with them, "
        "which PostgreSQL does not do with {}; nothing was changed. Convert {}{}: {}{}",
        fmt::join(columns, ", "), wrong.size() == 1 ? "such a column" : "such columns",
        wrong.size() == 1 ? "it" : "them",
        seconds ? " (to_timestamp reads seconds since 1970: for milliseconds, "
                  "to_timestamp(column / 1000.0))"
                : "",
        fmt::join(alters, "; "), then_migrate_again)};
}

// An enum of the bot's own without the words xloop writes and compares:
// ('SINGLE', 'THREAD', 'REPLY') takes no 'reply', and migrate failed midway
// on the first index that names one, plan on every run.
void check_enums(column_map const& m)
{
    std::vector<std::string> columns;
    std::vector<std::string> to_text;
    std::string add_values;
    for (auto const& w : enum_columns) {
        auto const* c = find(m, w.table, w.column);
        if (!c || !c->enum_labels) {
            continue;
        }
        std::vector<std::string> missing;
        std::istringstream words{w.type};
        for (std::string word; words >> word;) {
            if (std::find(c->enum_labels->begin(), c->enum_labels->end(), word) ==
                c->enum_labels->end()) {
                missing.push_back(word);
            }
        }
        if (missing.empty()) {
            continue;
        }
        std::vector<std::string> quoted;
        std::vector<std::string> adds;
        for (auto const& word : missing) {
            quoted.push_back(quote_literal(word));
            adds.push_back(fmt::format("ALTER TYPE {} ADD VALUE IF NOT EXISTS {}",
                                       c->base, quote_literal(word)));
        }
        columns.push_back(fmt::format(
            "{}.{} is the enum {} ({}), without {}", c->table, c->column, c->base,
            fmt::join(*c->enum_labels, ", "), fmt::join(quoted, ", ")));
        to_text.push_back(fmt::format(
            "ALTER TABLE public.{0} ALTER COLUMN {1} TYPE text USING lower({1}::text)",
            c->table, c->column));
        if (add_values.empty()) {
            add_values = fmt::format("{}", fmt::join(adds, "; "));
        }
    }
    if (columns.empty()) {
        return;
    }
    throw data_error{fmt::format(
        "{}: xloop writes and compares these words, which the enum refuses; nothing was "
        "changed. Make {} text, as xloop's own table has it, the bot's words lower-cased "
        "('REPLY' is then xloop's 'reply'): {}; or add xloop's words to the enum, a "
        "statement a word ({}){}",
        fmt::join(columns, "; "), columns.size() == 1 ? "it" : "them",
        fmt::join(to_text, "; "), add_values, then_migrate_again)};
}

// A whole-number column the jobs write fractions into: a priority of 0.73
// stored as 1, silently.
void check_fractions(column_map const& m)
{
    std::vector<catalog_column const*> whole;
    for (auto const& [table, column] : fraction_columns) {
        auto const* c = find(m, table, column);
        bool const numeric_p0 = c && c->base == "numeric" && c->typmod >= 4 &&
                                ((c->typmod - 4) & 0xffff) == 0;
        if (c && (is_integer_type(c->base) || numeric_p0)) {
            whole.push_back(c);
        }
    }
    if (whole.empty()) {
        return;
    }
    std::sort(whole.begin(), whole.end(), by_table_then_column);
    refuse_column_types(whole,
                        "xloop writes fractions there (scores, rates, priorities in [0, "
                        "1]), which a whole-number column would round",
                        "numeric", false);
}

} // namespace

void check_column_types(std::vector<catalog_column> const& columns)
{
    column_map m;
    for (auto const& c : columns) {
        m.emplace(std::pair(c.table, c.column), c);
    }
    check_keys(m);
    check_values(m);
    check_enums(m);
    check_fractions(m);
}

void check_column_types(db_connection& db)
{
    auto const r = db.exec(columns_sql);
    std::vector<catalog_column> columns;
    for (int i = 0; i < r.rows(); ++i) {
        catalog_column c{r.str(i, 0),
                         r.str(i, 1),
                         r.str(i, 2),
                         r.str(i, 3),
                         static_cast<int>(r.i64(i, 4)),
                         r.boolean(i, 5),
                         std::nullopt};
        if (auto const labels = r.opt_str(i, 6)) {
            c.enum_labels =
                nlohmann::json::parse(*labels).get<std::vector<std::string>>();
        }
        columns.push_back(std::move(c));
    }
    check_column_types(columns);
}

namespace {

// A table partitioned by time is fine where xloop's unique indexes are
// optional (they are left out, with a warning), not where the jobs need one.
void check_partitioned(db_connection& db)
{
    auto const r = db.exec(R"sql(
SELECT c.relname::text, pg_get_partkeydef(c.oid)
  FROM pg_class c
  JOIN pg_partitioned_table p ON p.partrelid = c.oid
 WHERE c.oid = to_regclass('public.learning_model_weights')
    OR (c.oid = to_regclass('public.outcomes')
        AND NOT coalesce(p.partnatts = 1
                         AND p.partattrs[0] = (SELECT attnum FROM pg_attribute
                                                WHERE attrelid = c.oid
                                                  AND attname = 'decision_id'),
                         false))
 ORDER BY 1)sql");
    if (r.rows() == 0) {
        return;
    }
    std::vector<std::string> why;
    for (int i = 0; i < r.rows(); ++i) {
        auto const table = r.str(i, 0);
        why.push_back(fmt::format(
            "public.{} is partitioned ({}): {}", table, r.str(i, 1),
            table == "outcomes"
                ? "scrape-metrics keeps one outcome per decision by a unique index on "
                  "decision_id alone, which PostgreSQL builds on a partitioned table "
                  "only if it is partitioned by decision_id"
                : "xloop keeps one active map by a unique index on (true) WHERE "
                  "is_active, which no partitioned table can hold"));
    }
    throw data_error{fmt::format(
        "{}; changed nothing. Make it a plain table again (CREATE TABLE … (LIKE … "
        "INCLUDING ALL), copy its rows, swap the names), then run xloop-migrate again",
        fmt::join(why, "; "))};
}

} // namespace

void check_relation_kinds(db_connection& db)
{
    // CREATE TABLE IF NOT EXISTS passes over a view of the name, and the
    // ALTER TABLE after it failed midway, xloop's schema already made.
    // content_metadata may be a table: it is adopted.
    auto const r = db.exec(R"sql(
SELECT k.rel, c.relkind::text
  FROM (VALUES (1, 'content_generation_metadata_comprehensive', true),
               (2, 'content_metadata', false), (3, 'outcomes', true),
               (4, 'follower_snapshots', true), (5, 'learning_model_weights', true),
               (6, 'discovered_accounts', true), (7, 'reply_opportunities', true))
       k(ord, rel, is_table)
  JOIN pg_class c ON c.oid = to_regclass('public.' || k.rel)
 WHERE c.relkind NOT IN ('r', 'p') AND (k.is_table OR c.relkind <> 'v')
 ORDER BY k.ord)sql");
    if (r.rows() == 0) {
        // the names are tables: are they partitioned as xloop cannot use?
        check_partitioned(db);
        return;
    }
    std::vector<std::string> found;
    std::string renames;
    for (int i = 0; i < r.rows(); ++i) {
        auto const rel = r.str(i, 0);
        auto const kind = r.str(i, 1);
        found.push_back(fmt::format("public.{} is {}", rel, kind_name(kind)));
        auto const keyword = kind == "v"                  ? "VIEW"
                             : kind == "m"                ? "MATERIALIZED VIEW"
                             : kind == "f"                ? "FOREIGN TABLE"
                             : kind == "S"                ? "SEQUENCE"
                             : kind == "i" || kind == "I" ? "INDEX"
                                                          : "TABLE";
        renames += fmt::format("{}ALTER {} public.{} RENAME TO {}_old", i ? "; " : "",
                               keyword, rel, rel);
    }
    throw data_error{fmt::format(
        "{}: xloop keeps the loop's rows in tables of these names (content_metadata: "
        "a view over content_generation_metadata_comprehensive, or a table it adopts), "
        "and changed nothing. If they are your own (a dashboard's), move them aside "
        "({}), then run xloop-migrate again; if one reads the bot's rows from a table of "
        "another name, give that table its name instead",
        list_text(found), renames)};
}

void check_owner(db_connection& db)
{
    // ALTER TABLE, CREATE OR REPLACE VIEW and the rest need the owner (or a
    // member of its role): a migration run as another role failed midway, on
    // the first table it altered, after xloop's own schema was made by it.
    std::vector<std::string> relations;
    for (auto const& rel : required_schema()) {
        relations.push_back(rel.name);
    }
    auto const r = db.exec(R"sql(
SELECT c.oid::regclass::text, c.relowner::regrole::text, current_user, count(*) OVER ()
  FROM pg_class c
 WHERE (c.oid IN (SELECT to_regclass(n) FROM jsonb_array_elements_text($1::jsonb) n)
        OR c.relnamespace = to_regnamespace('xloop') AND c.relkind IN ('r', 'v', 'p'))
   AND NOT pg_has_role(current_user, c.relowner, 'USAGE')
 ORDER BY c.relnamespace::regnamespace::text = 'xloop', 1
 LIMIT 1)sql",
                           json_text(relations));
    if (r.rows() == 0) {
        return;
    }
    auto const others = r.i64(0, 3) - 1;
    throw config_error{fmt::format(
        "xloop-migrate must run as the owner of the tables it converges: {0} is owned by "
        "{1}{2}, and {3} is not a member of that role; nothing was changed. Run it as "
        "{1} "
        "(e.g. --db 'postgresql://{1}@…'), or GRANT {1} TO {3}",
        r.str(0, 0), r.str(0, 1),
        others > 0 ? fmt::format(" (and {} more of its tables)", others) : "",
        r.str(0, 2))};
}

void adopt_content_table(db_connection& db, content_table_state state)
{
    auto const acl = db.exec(R"sql(
        SELECT relacl::text, relowner::regrole::text
          FROM pg_class WHERE oid = 'public.content_metadata'::regclass
        )sql");
    auto const grants_acl = acl.opt_str(0, 0);
    auto const owner = acl.str(0, 1);
    auto const rows = db.exec("SELECT count(*) FROM public.content_metadata").i64(0, 0);
    std::string line;
    if (state == content_table_state::table_beside_empty_base) {
        db.exec("DROP TABLE public.content_generation_metadata_comprehensive");
        // 0002 gave the empty table its columns: it must run again on this one.
        db.exec("DELETE FROM xloop.schema_migrations WHERE version = 2");
        line = "content_generation_metadata_comprehensive: the empty table an earlier "
               "xloop-migrate created was dropped; ";
    }
    db.exec(R"sql(
        ALTER TABLE public.content_metadata RENAME TO content_generation_metadata_comprehensive
        )sql");
    db.exec(R"sql(
        CREATE VIEW public.content_metadata AS
        SELECT * FROM public.content_generation_metadata_comprehensive
        )sql");
    if (db.exec("SELECT $1::regrole <> current_user::regrole", owner).boolean(0, 0)) {
        db.exec(fmt::format("ALTER VIEW public.content_metadata OWNER TO {}",
                            db.exec("SELECT quote_ident($1)", owner).str(0, 0)));
    }
    if (grants_acl) {
        auto const grants = db.exec(grants_sql, *grants_acl, owner);
        for (int i = 0; i < grants.rows(); ++i) {
            db.exec(grants.get(i, 0));
        }
    }
    line +=
        fmt::format("content_metadata: table renamed to "
                    "content_generation_metadata_comprehensive with its {} rows, ids, "
                    "sequences, constraints and grants; content_metadata is now a view "
                    "over it with the table's grants",
                    rows);
    log::debug("{}", line);
}

kept_views::kept_views(db_connection& db) : m_db(db)
{
    auto const base = db.exec(R"sql(
SELECT coalesce(json_agg(attname), '[]') FROM pg_attribute
 WHERE attrelid = to_regclass('public.content_generation_metadata_comprehensive')
   AND attnum > 0 AND NOT attisdropped)sql");
    auto content_cols =
        nlohmann::json::parse(base.get(0, 0)).get<std::vector<std::string>>();
    content_cols.insert(content_cols.end(), content_table_columns().begin(),
                        content_table_columns().end());

    for (auto const& [name, expected] :
         {std::pair{std::string{"vw_learning"}, learning_view_columns()},
          std::pair{std::string{"content_metadata"}, content_cols}}) {
        auto const r = db.exec(R"sql(
SELECT c.relkind::text,
       (SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
  FROM pg_class c WHERE c.oid = to_regclass($1))sql",
                               "public." + name);
        if (r.rows() == 0 || r.str(0, 0) != "v") {
            continue;
        }
        auto const own = minus(
            nlohmann::json::parse(r.get(0, 1)).get<std::vector<std::string>>(), expected);
        if (own.empty()) {
            continue; // xloop's definition is a superset: it may replace the view
        }
        db.exec(fmt::format("ALTER VIEW public.{0} RENAME TO {0}__xloop_kept", name));
        m_kept.push_back({name, own});
    }
}

std::vector<std::string> kept_views::restore()
{
    std::vector<std::string> lines;
    for (auto it = m_kept.rbegin(); it != m_kept.rend(); ++it) {
        bool const replaced =
            m_db.exec("SELECT to_regclass($1) IS NOT NULL", "public." + it->name)
                .boolean(0, 0);
        if (replaced) {
            m_db.exec(fmt::format("DROP VIEW public.{}", it->name));
            lines.push_back(fmt::format(
                "{}: kept as it was, with its own columns ({}); xloop's tools read "
                "xloop.vw_learning",
                it->name, list_text(it->own_columns)));
        }
        m_db.exec(
            fmt::format("ALTER VIEW public.{0}__xloop_kept RENAME TO {0}", it->name));
    }
    m_kept.clear();
    return lines;
}

} // namespace xloop
