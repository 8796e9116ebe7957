#include "adopt.hpp"

#include "json_text.hpp"
#include "log.hpp"
#include "schema.hpp"

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

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

// The columns of an adopted table whose type the tools cannot use, in one
// read of the catalogue (every validate makes it): kind, table, column, its
// type, and what the kind's refusal says (x1 … x4). The content table by
// either name (content_metadata while it is still the table).
//   key:      decision_id of another type than outcomes' (x1); a tweet id
//             that is no text (a bigint: X's ids pass 2⁵³, which a JSON
//             number cannot hold)
//   value:    a time or number the tools compare and compute with, held as
//             text, seconds or a date (x1 the type wanted, x2 the USING that
//             converts it, x3 whether it reads seconds, x4 a default)
//   enum:     a decision_type or status enum without xloop's words (x1 its
//             labels, x2 the words missing, x3 the ALTER TYPEs adding them)
//   fraction: a whole-number column the jobs write fractions into (a
//             priority of 0.73 stored as 1)
constexpr char const* column_types_sql = R"sql(
WITH c AS MATERIALIZED (
    SELECT t.relname::text AS rel, a.attname::text AS col, a.atttypid AS typ,
           format_type(a.atttypid, a.atttypmod) AS type, a.atttypmod AS typmod,
           a.atthasdef AS hasdef,
           a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype,
                          'numeric'::regtype, 'float4'::regtype,
                          'float8'::regtype) AS number
      FROM pg_class t
      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE t.relkind IN ('r', 'p')
       AND t.oid IN (SELECT to_regclass('public.' || n)
                       FROM unnest(ARRAY['content_metadata',
                                         'content_generation_metadata_comprehensive',
                                         'outcomes', 'follower_snapshots',
                                         'reply_opportunities', 'discovered_accounts',
                                         'learning_model_weights']) n)),
k(kind, rel, col, want) AS (
    SELECT 'key', r, col, NULL
      FROM unnest(ARRAY['content_metadata', 'content_generation_metadata_comprehensive']) r,
           unnest(ARRAY['decision_id', 'tweet_id', 'target_tweet_id']) col
    UNION ALL
    VALUES ('key', 'outcomes', 'tweet_id', NULL), ('key', 'reply_opportunities', 'tweet_id', NULL)
    UNION ALL
    SELECT 'value', r, col, 'timestamptz'
      FROM unnest(ARRAY['content_metadata', 'content_generation_metadata_comprehensive']) r,
           unnest(ARRAY['posted_at', 'scheduled_at', 'created_at']) col
    UNION ALL
    VALUES ('value', 'outcomes', 'collected_at', 'timestamptz'),
           ('value', 'follower_snapshots', 'snapshot_at', 'timestamptz'),
           ('value', 'reply_opportunities', 'discovered_at', 'timestamptz'),
           ('value', 'reply_opportunities', 'created_at', 'timestamptz'),
           ('value', 'discovered_accounts', 'last_successful_reply_at', 'timestamptz'),
           ('value', 'learning_model_weights', 'created_at', 'timestamptz'),
           ('value', 'learning_model_weights', 'computed_at', 'timestamptz'),
           ('value', 'outcomes', 'impressions', 'bigint'), ('value', 'outcomes', 'views', 'bigint'),
           ('value', 'outcomes', 'likes', 'bigint'), ('value', 'outcomes', 'retweets', 'bigint'),
           ('value', 'outcomes', 'replies', 'bigint'), ('value', 'outcomes', 'quotes', 'bigint'),
           ('value', 'outcomes', 'bookmarks', 'bigint'),
           ('value', 'outcomes', 'profile_clicks', 'bigint'),
           ('value', 'outcomes', 'followers_gained', 'bigint'),
           ('value', 'outcomes', 'engagement_rate', 'numeric'),
           ('value', 'outcomes', 'followers_gained_weighted', 'numeric'),
           ('value', 'outcomes', 'primary_objective_score', 'numeric'),
           ('value', 'outcomes', 'attribution_confidence', 'numeric'),
           ('value', 'follower_snapshots', 'follower_count', 'bigint'),
           ('value', 'discovered_accounts', 'priority_score', 'numeric'),
           ('value', 'discovered_accounts', 'reply_performance_score', 'numeric'),
           ('value', 'reply_opportunities', 'opportunity_score', 'numeric'),
           ('enum', 'content_metadata', 'decision_type', 'single thread reply'),
           ('enum', 'content_generation_metadata_comprehensive', 'decision_type',
            'single thread reply'),
           ('enum', 'content_metadata', 'status', 'queued posted skipped failed'),
           ('enum', 'content_generation_metadata_comprehensive', 'status',
            'queued posted skipped failed'),
           ('enum', 'reply_opportunities', 'status', 'pending replied expired skipped'),
           ('fraction', 'outcomes', 'engagement_rate', NULL),
           ('fraction', 'outcomes', 'followers_gained_weighted', NULL),
           ('fraction', 'outcomes', 'primary_objective_score', NULL),
           ('fraction', 'outcomes', 'attribution_confidence', NULL),
           ('fraction', 'learning_model_weights', 'avg_primary_objective_score', NULL),
           ('fraction', 'learning_model_weights', 'avg_followers_gained_weighted', NULL),
           ('fraction', 'discovered_accounts', 'priority_score', NULL),
           ('fraction', 'discovered_accounts', 'reply_performance_score', NULL)),
-- an enum's labels read for the columns that may be one only
e AS (
    SELECT k.rel, k.col, l.labels,
           ARRAY(SELECT w FROM unnest(string_to_array(k.want, ' ')) WITH ORDINALITY u(w, n)
                  WHERE w <> ALL (l.labels) ORDER BY n) AS missing
      FROM k
      JOIN c ON c.rel = k.rel AND c.col = k.col
      CROSS JOIN LATERAL (SELECT array_agg(enumlabel::text ORDER BY enumsortorder) AS labels
                            FROM pg_enum WHERE enumtypid = c.typ) l
     WHERE k.kind = 'enum' AND l.labels IS NOT NULL),
found AS (
    SELECT k.kind, c.*, k.want, o.type AS outcomes_type, e.labels, e.missing
      FROM k
      JOIN c ON c.rel = k.rel AND c.col = k.col
      LEFT JOIN c o ON o.rel = 'outcomes' AND o.col = 'decision_id'
      LEFT JOIN e ON k.kind = 'enum' AND e.rel = k.rel AND e.col = k.col)
SELECT kind, rel, col, type,
       CASE kind WHEN 'key' THEN outcomes_type WHEN 'value' THEN want
                 WHEN 'enum' THEN array_to_string(labels, ', ') END,
       CASE kind
           WHEN 'value' THEN
               CASE WHEN want = 'timestamptz' AND number THEN format('to_timestamp(%I)', col)
                    ELSE format('nullif(btrim(%I::text), %L)::%s', col, '', want) END
           WHEN 'enum' THEN (SELECT string_agg(quote_literal(m), ', ') FROM unnest(missing) m)
       END,
       CASE kind
           WHEN 'value' THEN (want = 'timestamptz' AND number)::text
           WHEN 'enum' THEN
               (SELECT string_agg(format('ALTER TYPE %s ADD VALUE IF NOT EXISTS %L',
                                         typ::regtype, m), '; ')
                  FROM unnest(missing) m)
       END,
       hasdef::text
  FROM found
 WHERE CASE kind
           WHEN 'key' THEN
               CASE WHEN col = 'decision_id' THEN typ <> (SELECT typ FROM c
                                                           WHERE rel = 'outcomes'
                                                             AND col = 'decision_id')
                    ELSE typ NOT IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype)
               END
           WHEN 'value' THEN
               CASE WHEN want = 'timestamptz'
                    THEN typ NOT IN ('timestamptz'::regtype, 'timestamp'::regtype)
                    ELSE NOT number END
           WHEN 'enum' THEN cardinality(missing) > 0
           ELSE typ IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
                OR (typ = 'numeric'::regtype AND typmod >= 4 -- numeric(p, 0)
                    AND ((typmod - 4) & 65535) = 0)
       END
 ORDER BY array_position(ARRAY['key', 'value', 'enum', 'fraction'], kind),
          kind = 'key' AND col <> 'decision_id', kind = 'key' AND rel <> 'content_metadata',
          kind = 'value' AND want <> 'timestamptz', rel, col)sql";

struct column_row {
    std::string table;
    std::string column;
    std::string type;
    std::optional<std::string> x1, x2, x3, x4;
};

// Refuses `rows`, all named at once: why they do not fit, and the ALTER that
// makes each of them `type` (`using_cast`: converting through a cast).
[[noreturn]] void refuse_column_types(std::vector<column_row> const& rows,
                                      std::string_view why, std::string_view type,
                                      bool using_cast)
{
    std::vector<std::string> columns;
    std::vector<std::string> alters;
    for (auto const& r : rows) {
        columns.push_back(fmt::format("{}.{} is {}", r.table, r.column, r.type));
        alters.push_back(fmt::format(
            "ALTER TABLE public.{0} ALTER COLUMN {1} TYPE {2}{3}", r.table, r.column,
            type, using_cast ? fmt::format(" USING {}::{}", r.column, type) : ""));
    }
    throw data_error{fmt::format("{}: {}; nothing was changed. Make {} {}: {}{}",
                                 fmt::join(columns, ", "), why,
                                 rows.size() == 1 ? "it" : "them", type,
                                 fmt::join(alters, "; "), then_migrate_again)};
}

[[noreturn]] void refuse_keys(std::vector<column_row> const& rows)
{
    auto const& first = rows.front();
    if (first.column == "decision_id") {
        throw data_error{fmt::format(
            "{0}.decision_id is {1} but outcomes.decision_id is {2}: xloop joins them "
            "(vw_learning, every job), so their types must match; nothing was changed. "
            "Make them one type, e.g. ALTER TABLE public.outcomes ALTER COLUMN "
            "decision_id TYPE {1} USING decision_id::{1}{3}",
            first.table, first.type, first.x1.value_or(""), then_migrate_again)};
    }
    refuse_column_types(rows,
                        "xloop reads tweet ids as text (as X sends them), and a number "
                        "compares with no text",
                        "text", true);
}

// Migrate passed over such columns and failed in a later migration, or every
// scrape-metrics and plan run exited 70 on "operator does not exist".
[[noreturn]] void refuse_values(std::vector<column_row> const& rows)
{
    std::vector<std::string> columns;
    std::vector<std::string> alters;
    bool seconds = false;
    for (auto const& r : rows) {
        columns.push_back(fmt::format("{}.{} is {}", r.table, r.column, r.type));
        // a default of the old type (now() as text or seconds) cannot be
        // cast: it goes first, and a time's comes back as now()
        bool const has_default = r.x4 == "true";
        bool const time = r.x1 == "timestamptz";
        alters.push_back(fmt::format(
            "ALTER TABLE public.{} {}ALTER COLUMN {} TYPE {} USING {}{}", r.table,
            has_default ? fmt::format("ALTER COLUMN {} DROP DEFAULT, ", r.column) : "",
            r.column, r.x1.value_or(""), r.x2.value_or(""),
            has_default && time
                ? fmt::format(", ALTER COLUMN {} SET DEFAULT now()", r.column)
                : ""));
        seconds = seconds || r.x3 == "true";
    }
    throw data_error{fmt::format(
        "{}: xloop compares these with times and numbers and computes with them, "
        "which PostgreSQL does not do with {}; nothing was changed. Convert {}{}: {}{}",
        fmt::join(columns, ", "), rows.size() == 1 ? "such a column" : "such columns",
        rows.size() == 1 ? "it" : "them",
        seconds ? " (to_timestamp reads seconds since 1970: for milliseconds, "
                  "to_timestamp(column / 1000.0))"
                : "",
        fmt::join(alters, "; "), then_migrate_again)};
}

// ('SINGLE', 'THREAD', 'REPLY') takes no 'reply': migrate failed midway on
// the first index that names one, plan on every run.
[[noreturn]] void refuse_enums(std::vector<column_row> const& rows)
{
    std::vector<std::string> columns;
    std::vector<std::string> to_text;
    for (auto const& r : rows) {
        columns.push_back(fmt::format("{}.{} is the enum {} ({}), without {}", r.table,
                                      r.column, r.type, r.x1.value_or(""),
                                      r.x2.value_or("")));
        to_text.push_back(fmt::format(
            "ALTER TABLE public.{0} ALTER COLUMN {1} TYPE text USING lower({1}::text)",
            r.table, r.column));
    }
    throw data_error{fmt::format(
        "{}: xloop writes and compares these words, which the enum refuses; nothing was "
        "changed. Make {} text, as xloop's own table has it, the bot's words lower-cased "
        "('REPLY' is then xloop's 'reply'): {}; or add xloop's words to the enum, a "
        "statement a word ({}){}",
        fmt::join(columns, "; "), rows.size() == 1 ? "it" : "them",
        fmt::join(to_text, "; "), rows.front().x3.value_or(""), then_migrate_again)};
}

} // namespace

void check_column_types(db_connection& db)
{
    auto const r = db.exec(column_types_sql);
    if (r.rows() == 0) {
        return;
    }
    // the first kind found, all its columns at once (the query orders them)
    auto const kind = r.str(0, 0);
    std::vector<column_row> rows;
    for (int i = 0; i < r.rows() && r.str(i, 0) == kind; ++i) {
        rows.push_back({r.str(i, 1), r.str(i, 2), r.str(i, 3), r.opt_str(i, 4),
                        r.opt_str(i, 5), r.opt_str(i, 6), r.opt_str(i, 7)});
    }
    if (kind == "key") {
        refuse_keys(rows);
    }
    if (kind == "value") {
        refuse_values(rows);
    }
    if (kind == "enum") {
        refuse_enums(rows);
    }
    refuse_column_types(rows,
                        "xloop writes fractions there (scores, rates, priorities in [0, "
                        "1]), which a whole-number column would round",
                        "numeric", false);
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
