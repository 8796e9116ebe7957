// Taking over the original bot's database in the shapes operators have: each
// test loads a shape, migrates it, then runs the loop's tools on it.

#include "test_db_fixture.hpp"

#include "adopt.hpp"
#include "migrations.hpp"
#include "schema.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace xloop;
using namespace xloop::test;
using json = nlohmann::json;

namespace {

char const* const now = "2026-02-27T12:00:00Z";

std::string relkind(db_connection& c, std::string const& name)
{
    auto const r =
        c.exec("SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)", name);
    return r.rows() ? r.str(0, 0) : "";
}

bool can(db_connection& c, std::string const& role, std::string const& rel,
         std::string const& privilege)
{
    return c.exec("SELECT has_table_privilege($1, $2, $3)", role, rel, privilege)
        .boolean(0, 0);
}

bool has_all(std::vector<std::string> const& have, std::vector<std::string> const& want)
{
    return std::all_of(want.begin(), want.end(), [&](auto const& w) {
        return std::find(have.begin(), have.end(), w) != have.end();
    });
}

std::size_t lines_in(std::string const& text)
{
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Metrics for tweets first..last and follower snapshots, as an operator's
// collector would write them for the file source.
std::string metrics_file(int first, int last)
{
    std::string out;
    for (int d = 20; d <= 27; ++d) {
        for (int h : {0, 8, 16}) {
            if (d == 27 && h > 12) {
                break; // nothing observed after --now
            }
            out += fmt::format("{{\"followers\": {}, \"observed_at\": "
                               "\"2026-02-{}T{:02d}:00:00Z\"}}\n",
                               1000 + (d - 20) * 30 + h, d, h);
        }
    }
    for (int i = first; i <= last; ++i) {
        out +=
            fmt::format("{{\"tweet_id\": \"{}\", \"observed_at\": "
                        "\"2026-02-27T10:00:00Z\", \"impressions\": {}, \"likes\": {}, "
                        "\"retweets\": 1, \"replies\": 1}}\n",
                        i, 1000 + 100 * (i % 7), 5 + i % 11);
    }
    return out;
}

// A change to original_bot.sql: each `from` becomes `to` (there are `expected`).
struct fixture_edit {
    std::string from;
    std::string to;
    int expected = 1;
};

// original_bot.sql with the edits made, in order.
std::string original_with(std::vector<fixture_edit> const& edits)
{
    auto text = read_file(source_path("tests/fixtures/original_bot.sql"));
    for (auto const& [from, to, expected] : edits) {
        int replaced = 0;
        for (auto p = text.find(from); p != std::string::npos;
             p = text.find(from, p + to.size())) {
            text.replace(p, from.size(), to);
            ++replaced;
        }
        REQUIRE(replaced == expected);
    }
    return text;
}

std::string original_with(std::string const& from, std::string const& to, int expected)
{
    return original_with({{from, to, expected}});
}

// The fixture's reply opportunities, found an hour before now with a text:
// open for plan --replies.
void open_reply_opportunities(db_connection& c)
{
    c.exec("UPDATE reply_opportunities SET discovered_at = $1::timestamptz - interval '1 "
           "hour', tweet_content = 'a take'",
           now);
}

// The type of a column of the base table, as format_type() writes it.
std::string column_type(db_connection& c, std::string const& relation,
                        std::string const& column)
{
    return c
        .exec("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
              "attrelid = $1::regclass AND attname = $2",
              relation, column)
        .str(0, 0);
}

std::string base_column_type(db_connection& c, std::string const& column)
{
    return column_type(c, "public.content_generation_metadata_comprehensive", column);
}

// How many items xloop-plan has queued in the base table.
std::int64_t xloop_items(test_db const& db)
{
    return db.count(
        "SELECT count(*) FROM content_generation_metadata_comprehensive WHERE "
        "generation_source = 'xloop'");
}

// The fixtures' posts (January 2025) moved into the learning window of now.
void move_posts_into_window(db_connection& c)
{
    c.exec("UPDATE content_generation_metadata_comprehensive "
           "SET posted_at = posted_at + interval '13 months'");
}

// Changes the bot's tables as `alter` says with its views out of the way
// (ALTER ... TYPE refuses while a view reads the column): content_metadata
// is made again as the fixture has it, vw_learning is not.
void alter_content_table(db_connection& c, std::string const& alter)
{
    c.exec("DROP VIEW vw_learning CASCADE; DROP VIEW content_metadata; " + alter + R"sql(
CREATE VIEW content_metadata AS
    SELECT id, decision_id, content, generator_name, hook_type, status, posted_at, tweet_id,
           decision_type, raw_topic, tone, created_at
      FROM content_generation_metadata_comprehensive;
)sql");
}

// migrate refused the database (exit 65) before changing anything: no xloop
// schema was created. Returns the run, for its message.
process_result refused_before_any_change(test_db const& db,
                                         std::vector<std::string> args = {})
{
    auto r = run_tool("migrate", std::move(args), &db);
    UNSCOPED_INFO(r.err);
    CHECK(r.exit_code == 65);
    CHECK(db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'xloop'") == 0);
    return r;
}

struct loop_run {
    test_db const& db;
    temp_dir dir;

    explicit loop_run(test_db const& d) : db(d)
    {
        dir.write("xloop.yaml", "weights:\n  min_posts: 2\n");
    }
    process_result tool(std::string const& name, std::vector<std::string> args = {}) const
    {
        args.insert(args.end(), {"--now", now, "--config", dir.path() + "/xloop.yaml"});
        auto r = run_tool(name, args, &db);
        UNSCOPED_INFO("xloop-" << name << " exited " << r.exit_code << ": " << r.err);
        return r;
    }
    json validate() const
    {
        auto const r = tool("validate", {"--json", "-q"});
        REQUIRE((r.exit_code == 0 || r.exit_code == 1));
        return json::parse(r.out);
    }
    // Scrape (file source), learn, plan: every tool exits as documented.
    void run_every_tool(int first_tweet, int last_tweet) const
    {
        dir.write("metrics.jsonl", metrics_file(first_tweet, last_tweet));
        CHECK(tool("scrape-metrics", {"--input", dir.path() + "/metrics.jsonl"})
                  .exit_code == 0);
        CHECK(tool("learn-replies").exit_code == 0);
        CHECK(tool("build-weights").exit_code == 0);
        CHECK(tool("plan", {"--seed", "7"}).exit_code == 0);
        CHECK(tool("plan", {"--replies", "1", "--seed", "7"}).exit_code == 0);
    }
};

// The original's posts moved into the learners' window, then every tool run
// on the database: each exits as documented, and the schema check passes.
void every_tool_runs(test_db const& db, db_connection& c)
{
    move_posts_into_window(c);
    loop_run loop{db};
    loop.run_every_tool(1001, 1003);
    CHECK(check_named(loop.validate(), "schema")["status"] != "fail");
}

} // namespace

TEST_CASE("a replayed database whose content_metadata is a table is adopted in place",
          "[db]")
{
    test_db db;
    db.load_fixture("original_replayed.sql");
    auto c = db.connect();
    auto const id_sum = db.count("SELECT sum(id) FROM content_metadata");
    REQUIRE(db.count("SELECT count(*) FROM content_metadata") == 17);

    // The dry run says what would change and changes nothing.
    auto const dry = run_tool("migrate", {"--dry-run"}, &db);
    INFO(dry.err);
    REQUIRE(dry.exit_code == 0);
    CHECK(dry.out.find("would change content_metadata: table renamed to "
                       "content_generation_metadata_comprehensive") != std::string::npos);
    CHECK(dry.out.find("would change vw_learning: kept as it was") != std::string::npos);
    CHECK(dry.out.find("would change xloop.schema_migrations: table created") !=
          std::string::npos);
    CHECK(relkind(c, "public.content_metadata") == "r");
    CHECK(relkind(c, "public.content_generation_metadata_comprehensive").empty());
    CHECK(db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'xloop'") == 0);

    auto const r = run_tool("migrate", {}, &db);
    INFO(r.err << r.out);
    REQUIRE(r.exit_code == 0);
    // A short account, not the server's NOTICEs.
    CHECK(r.err.find("already exists, skipping") == std::string::npos);
    CHECK(r.err.find("drop cascades") == std::string::npos);
    CHECK(r.out.find("changed content_metadata: table renamed to "
                     "content_generation_metadata_comprehensive") != std::string::npos);
    CHECK(lines_in(r.out) < 25);
    // The real account names what the dry run named, xloop's own ledger too.
    CHECK(r.out.find("changed xloop.schema_migrations: table created") !=
          std::string::npos);

    // Every row kept with its id, in the base table; the view carries the grants.
    CHECK(relkind(c, "public.content_generation_metadata_comprehensive") == "r");
    CHECK(relkind(c, "public.content_metadata") == "v");
    CHECK(db.count("SELECT count(*) FROM content_generation_metadata_comprehensive") ==
          17);
    CHECK(db.count("SELECT count(*) FROM content_metadata") == 17);
    CHECK(db.count("SELECT sum(id) FROM content_generation_metadata_comprehensive") ==
          id_sum);
    CHECK(db.count("SELECT count(*) FROM content_metadata WHERE format_strategy = "
                   "'plain'") == 16);
    CHECK(can(c, "anon", "public.content_metadata", "SELECT"));
    CHECK(can(c, "service_role", "public.content_metadata", "INSERT"));
    CHECK_FALSE(can(c, "anon", "public.content_metadata", "INSERT"));
    CHECK(can(c, "anon", "public.content_generation_metadata_comprehensive", "SELECT"));
    // new rows still get ids from the table's own sequence
    c.exec(
        "INSERT INTO content_generation_metadata_comprehensive (content) VALUES ('x')");
    CHECK(db.count("SELECT max(id) FROM content_generation_metadata_comprehensive") ==
          18);

    // The original's vw_learning keeps its columns; its dashboard still works.
    CHECK(has_all(columns_of(c, "public.vw_learning"),
                  {"format_strategy", "thread_parts", "scheduled_at", "status",
                   "tm_likes_count", "topic", "engagement_rate"}));
    CHECK(db.count("SELECT likes FROM vw_dashboard_likes") == 1360);
    CHECK(can(c, "authenticated", "public.vw_dashboard_likes", "SELECT"));
    CHECK(can(c, "anon", "public.vw_learning", "SELECT"));
    // The tools read their own view.
    CHECK(has_all(columns_of(c, "xloop.vw_learning"), learning_view_columns()));
    CHECK(db.count("SELECT count(*) FROM xloop.vw_learning") == 16);

    CHECK(run_tool("migrate", {"status", "--check"}, &db).exit_code == 0);
    auto const again = run_tool("migrate", {}, &db);
    CHECK(again.exit_code == 0);
    CHECK(again.out.empty());

    loop_run loop{db};
    // Before xloop has learned anything, validate says what is wrong.
    auto const first = loop.validate();
    CHECK(check_named(first, "weight_map")["status"] == "fail");
    CHECK(check_named(first, "weight_map")["message"].get<std::string>().find(
              "cannot be used by xloop-plan: it has no posteriors") != std::string::npos);
    auto const legacy_plan = loop.tool("plan", {"--seed", "3"});
    CHECK(legacy_plan.exit_code == 0);
    CHECK(legacy_plan.err.find("cannot be used") != std::string::npos);

    loop.run_every_tool(2001, 2016);
    // build-weights continued the text version column: 1.176… → 2
    CHECK(
        c.exec("SELECT version FROM learning_model_weights WHERE is_active").str(0, 0) ==
        "2");
    CHECK(c.exec("SELECT pg_typeof(version)::text FROM learning_model_weights LIMIT 1")
              .str(0, 0) == "text");
    auto const report = loop.validate();
    auto const map = check_named(report, "weight_map");
    INFO(map["message"].get<std::string>());
    // the bot's best topic, 'analytics', is none of the built-in catalogue's:
    // said, since plan will never draw it
    CHECK(map["status"] == "warn");
    CHECK_THAT(map["message"].get<std::string>(),
               Catch::Contains("the map's likely best topic \"analytics\"") &&
                   Catch::Contains("is not in plan's catalogue"));
    CHECK(check_named(report, "schema")["status"] == "ok");
}

TEST_CASE("reply opportunities the bot left are never fresh to plan: they keep their "
          "table's created_at as discovered_at, or none, and those are expired",
          "[db]")
{
    test_db db;
    // the bot's table with a created_at of its own (timestamp, read as UTC) on
    // one of its two shapes
    bool const with_created_at = GENERATE(false, true);
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    if (with_created_at) {
        c.exec("ALTER TABLE reply_opportunities ADD COLUMN created_at timestamp");
        c.exec("UPDATE reply_opportunities SET created_at = '2025-01-10 08:00'");
    }
    REQUIRE(run_tool("migrate", {"-q"}, &db).exit_code == 0);
    CHECK(db.count("SELECT count(*) FROM reply_opportunities WHERE discovered_at IS "
                   "NULL") == (with_created_at ? 0 : 2));
    if (with_created_at) {
        CHECK(db.count("SELECT count(*) FROM reply_opportunities WHERE discovered_at = "
                       "'2025-01-10 08:00Z'") == 2);
    }
    // a row the harvester writes from now on is discovered when it is written
    c.exec("INSERT INTO reply_opportunities (tweet_id, tweet_author, opportunity_score, "
           "tweet_content) VALUES ('9003', 'new_nick', 0.5, 'a take')");
    CHECK(db.count("SELECT count(*) FROM reply_opportunities WHERE tweet_id = '9003' "
                   "AND discovered_at > now() - interval '1 minute'") == 1);

    // plan, right after adoption: the new one is taken, the bot's pending one
    // (9001, months old or of unknown age) is expired, never replied to
    auto const r = run_tool("plan", {"--replies", "3", "--seed", "1", "--json"}, &db);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto const summary = json::parse(r.out);
    CHECK(summary["replies"].size() == 1);
    CHECK(db.count("SELECT count(*) FROM content_generation_metadata_comprehensive WHERE "
                   "decision_type = 'reply' AND target_tweet_id = '9001'") == 0);
    CHECK(db.count("SELECT count(*) FROM reply_opportunities WHERE tweet_id = '9001' AND "
                   "status = 'expired'") == 1);
    if (!with_created_at) {
        CHECK(summary["expired_age_unknown"] == 1);
        CHECK_THAT(r.err, Catch::Contains("1 pending reply opportunity has no "
                                          "discovered_at"));
        // the ledger keeps the count, where validate finds the opportunity
        // plan expired (none is pending now to count)
        CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'plan-replies' "
                       "AND (detail->>'expired_age_unknown')::int = 1") == 1);
        auto const v = run_tool("validate", {"--json"}, &db);
        INFO(v.err);
        CHECK(check_named(json::parse(v.out),
                          "reply_opportunities")["numbers"]["without_discovered_at"] ==
              1);
    }
}

TEST_CASE("a database left half-adopted by an earlier migrate is converged", "[db]")
{
    test_db db;
    db.load_fixture("original_replayed.sql");
    auto c = db.connect();
    // What the earlier xloop-migrate left: 0001 and 0002 applied, an empty base
    // table beside the real one, 0003 failing on the table.
    c.exec("ALTER TABLE content_metadata RENAME TO content_metadata_hold");
    REQUIRE(run_tool("migrate", {"-q", "--to", "2"}, &db).exit_code == 0);
    c.exec("ALTER TABLE content_metadata_hold RENAME TO content_metadata");
    REQUIRE(db.count("SELECT count(*) FROM content_generation_metadata_comprehensive") ==
            0);

    auto const r = run_tool("migrate", {}, &db);
    INFO(r.err << r.out);
    REQUIRE(r.exit_code == 0);
    CHECK(db.count("SELECT count(*) FROM content_generation_metadata_comprehensive") ==
          17);
    CHECK(db.count("SELECT count(*) FROM content_generation_metadata_comprehensive WHERE "
                   "features IS NULL") == 17); // 0002 ran again: its columns are there
    CHECK(relkind(c, "public.content_metadata") == "v");
    CHECK(run_tool("migrate", {"status", "--check"}, &db).exit_code == 0);
}

TEST_CASE("two content tables that both hold rows are refused before any change", "[db]")
{
    test_db db;
    db.load_fixture("original_replayed.sql");
    auto c = db.connect();
    c.exec("CREATE TABLE content_generation_metadata_comprehensive (id bigint, content "
           "text)");
    c.exec("INSERT INTO content_generation_metadata_comprehensive VALUES (1, 'other')");
    auto const r = refused_before_any_change(db);
    CHECK(r.err.find("content_metadata is a table (17 rows) and "
                     "content_generation_metadata_comprehensive already exists as a "
                     "table with 1 rows") != std::string::npos);
    CHECK(r.err.find("changed nothing") != std::string::npos);
    CHECK(relkind(c, "public.content_metadata") == "r");
}

TEST_CASE("a content_metadata view over a table of another name is refused before any "
          "change, and with the table renamed as it says every row stays",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    // the view follows its table's rename: it reads content_items now
    c.exec(
        "ALTER TABLE content_generation_metadata_comprehensive RENAME TO content_items");
    auto const rows = db.count("SELECT count(*) FROM content_items");
    REQUIRE(rows > 0);
    for (auto const& args : {std::vector<std::string>{"--dry-run"}, {}}) {
        auto const r = refused_before_any_change(db, args);
        CHECK(r.err.find(fmt::format("content_metadata is a view over content_items ({} "
                                     "rows through it), not over "
                                     "content_generation_metadata_comprehensive",
                                     rows)) != std::string::npos);
        CHECK(r.err.find("changed nothing") != std::string::npos);
    }
    CHECK(relkind(c, "public.content_generation_metadata_comprehensive").empty());

    c.exec(
        "ALTER TABLE content_items RENAME TO content_generation_metadata_comprehensive");
    CHECK(run_tool("migrate", {"-q"}, &db).exit_code == 0);
    CHECK(db.count("SELECT count(*) FROM content_metadata") == rows);
}

TEST_CASE("a view under a table's name, or a materialized content_metadata, is refused "
          "before any change, naming each",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    // a dashboard's copies, made where xloop keeps the bot's tables
    c.exec(R"sql(
DROP VIEW content_metadata CASCADE;
CREATE MATERIALIZED VIEW content_metadata AS
    SELECT * FROM content_generation_metadata_comprehensive;
ALTER TABLE discovered_accounts RENAME TO discovered_accounts_data;
CREATE VIEW discovered_accounts AS SELECT * FROM discovered_accounts_data;
)sql");
    for (auto const& args : {std::vector<std::string>{"--dry-run"}, {}}) {
        auto const r = refused_before_any_change(db, args);
        CHECK(r.err.find("public.content_metadata is a materialized view, "
                         "public.discovered_accounts is a view: ") != std::string::npos);
        CHECK(r.err.find("changed nothing") != std::string::npos);
        CHECK(r.err.find("ALTER MATERIALIZED VIEW public.content_metadata RENAME TO "
                         "content_metadata_old; ALTER VIEW public.discovered_accounts "
                         "RENAME TO discovered_accounts_old") != std::string::npos);
    }
    CHECK(relkind(c, "public.content_metadata") == "m");
    CHECK(relkind(c, "public.discovered_accounts") == "v");

    // as it says (the accounts' table given its name back): then it converges
    c.exec(
        "ALTER MATERIALIZED VIEW public.content_metadata RENAME TO content_metadata_old; "
        "DROP VIEW discovered_accounts; "
        "ALTER TABLE discovered_accounts_data RENAME TO discovered_accounts");
    auto const rows = db.count("SELECT count(*) FROM discovered_accounts");
    CHECK(run_tool("migrate", {"-q"}, &db).exit_code == 0);
    CHECK(relkind(c, "public.content_metadata") == "v");
    CHECK(db.count("SELECT count(*) FROM discovered_accounts") == rows);
}

TEST_CASE("migrate run as a role that does not own the tables is refused before any "
          "change, naming the owner",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    // a role per test database (roles are cluster-wide), taken through the
    // connection's startup options: it may write every table, own none
    auto const role = "cron_" + db.conninfo().substr(std::string{"dbname="}.size());
    auto const dbname = db.conninfo().substr(std::string{"dbname="}.size());
    c.exec(fmt::format("CREATE ROLE {0} NOLOGIN; GRANT CREATE ON DATABASE {1} TO {0}; "
                       "GRANT ALL ON SCHEMA public TO {0}; GRANT ALL ON ALL TABLES IN "
                       "SCHEMA public TO {0}",
                       quote_ident(role), quote_ident(dbname)));
    auto const as_role = db.conninfo() + " options='-c role=" + role + "'";
    auto const owner = c.exec("SELECT current_user").str(0, 0);
    auto const r = run_tool("migrate", {"--db", as_role}, nullptr);
    INFO(r.err);
    CHECK(r.exit_code == 78);
    CHECK(r.err.find("xloop-migrate must run as the owner of the tables it converges: "
                     "content_generation_metadata_comprehensive is owned by " +
                     owner) != std::string::npos);
    CHECK(r.err.find("Run it as " + owner) != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'xloop'") == 0);

    // As the owner it converges; then, with nothing pending, the role's
    // migrate (a cron line's) has nothing to do and says so.
    REQUIRE(run_tool("migrate", {"-q"}, &db).exit_code == 0);
    c.exec(
        fmt::format("GRANT USAGE ON SCHEMA xloop TO {0}; GRANT SELECT ON ALL TABLES IN "
                    "SCHEMA xloop TO {0}",
                    quote_ident(role)));
    auto const again = run_tool("migrate", {"--db", as_role}, nullptr);
    INFO(again.err);
    CHECK(again.exit_code == 0);
    c.exec(fmt::format("DROP OWNED BY {0}; DROP ROLE {0}", quote_ident(role)));
}

TEST_CASE("decision ids of two types in the content table and outcomes are refused "
          "before any change, saying how to match them",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    // outcomes' id as text beside the content's uuid (the original's own
    // view, which joins them, cannot exist in that shape)
    c.exec("DROP VIEW vw_learning CASCADE");
    c.exec("ALTER TABLE outcomes ALTER COLUMN decision_id TYPE text");
    for (auto const& args : {std::vector<std::string>{"--dry-run"}, {}}) {
        auto const r = refused_before_any_change(db, args);
        CHECK(r.err.find("content_generation_metadata_comprehensive.decision_id is uuid "
                         "but outcomes.decision_id is text") != std::string::npos);
        CHECK(r.err.find("ALTER TABLE public.outcomes ALTER COLUMN decision_id TYPE uuid "
                         "USING decision_id::uuid") != std::string::npos);
    }
    // as it says: then migrate converges it
    c.exec("ALTER TABLE public.outcomes ALTER COLUMN decision_id TYPE uuid USING "
           "decision_id::uuid");
    CHECK(run_tool("migrate", {"-q"}, &db).exit_code == 0);
}

TEST_CASE("tweet ids held as numbers, in any table, are refused before any change, "
          "saying how to make them text",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    c.exec("DROP VIEW content_metadata CASCADE");
    c.exec("ALTER TABLE content_generation_metadata_comprehensive ALTER COLUMN tweet_id "
           "TYPE bigint USING tweet_id::bigint");
    auto const r = refused_before_any_change(db);
    CHECK(
        r.err.find("content_generation_metadata_comprehensive.tweet_id is bigint: xloop "
                   "reads tweet ids as text") != std::string::npos);
    c.exec("ALTER TABLE public.content_generation_metadata_comprehensive ALTER COLUMN "
           "tweet_id TYPE text USING tweet_id::text");

    // Every other table's tweet ids too, all named in one refusal (the
    // reply candidates' were the schema's first failure: 0004's duplicate
    // check, half-way through).
    c.exec("ALTER TABLE reply_opportunities ALTER COLUMN tweet_id TYPE bigint USING "
           "tweet_id::bigint");
    c.exec("ALTER TABLE outcomes ALTER COLUMN tweet_id TYPE numeric USING "
           "tweet_id::numeric");
    auto const both = refused_before_any_change(db);
    CHECK(both.err.find("outcomes.tweet_id is numeric, reply_opportunities.tweet_id is "
                        "bigint: xloop reads tweet ids as text") != std::string::npos);
    CHECK(both.err.find(
              "Make them text: ALTER TABLE public.outcomes ALTER COLUMN tweet_id "
              "TYPE text USING tweet_id::text; ALTER TABLE "
              "public.reply_opportunities ALTER COLUMN tweet_id TYPE text USING "
              "tweet_id::text, then run xloop-migrate again") != std::string::npos);
    c.exec("ALTER TABLE public.outcomes ALTER COLUMN tweet_id TYPE text USING "
           "tweet_id::text; ALTER TABLE public.reply_opportunities ALTER COLUMN tweet_id "
           "TYPE text USING tweet_id::text");
    CHECK(run_tool("migrate", {"-q"}, &db).exit_code == 0);
    CHECK(db.count("SELECT count(*) FROM xloop.vw_learning WHERE tweet_id = '1001'") ==
          1);
}

TEST_CASE("whole-number columns the jobs write fractions into are refused before any "
          "change, each with its ALTER",
          "[db]")
{
    test_db db;
    auto c = db.connect();
    // A bot that kept priorities as 0-100 and rates as numeric(10,0): xloop's
    // 0.73 would be stored as 1, silently.
    c.exec(original_with(
        {{"    priority_score  numeric DEFAULT 0,",
          "    priority_score  integer DEFAULT 0,"},
         {"    engagement_rate numeric,", "    engagement_rate numeric(10,0),"}}));
    auto const r = refused_before_any_change(db);
    CHECK(r.err.find("discovered_accounts.priority_score is integer, "
                     "outcomes.engagement_rate is numeric(10,0): xloop writes fractions "
                     "there") != std::string::npos);
    CHECK(r.err.find("Make them numeric: ALTER TABLE public.discovered_accounts ALTER "
                     "COLUMN priority_score TYPE numeric; ALTER TABLE public.outcomes "
                     "ALTER COLUMN engagement_rate TYPE numeric, then run xloop-migrate "
                     "again") != std::string::npos);
    c.exec("DROP VIEW vw_learning_daily, vw_learning");
    c.exec("ALTER TABLE public.discovered_accounts ALTER COLUMN priority_score TYPE "
           "numeric");
    c.exec("ALTER TABLE public.outcomes ALTER COLUMN engagement_rate TYPE numeric");
    CHECK(run_tool("migrate", {"-q"}, &db).exit_code == 0);
}

TEST_CASE("on the original bot's database before migrate, validate reports NOT READY "
          "in every form and the learning tools say xloop-migrate has not run, "
          "changing nothing",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    // the relations there are, and the rows of the bot's tables
    auto const state = [&] {
        return std::pair{
            db.count("SELECT count(*) FROM pg_class WHERE relnamespace IN "
                     "('public'::regnamespace, to_regnamespace('xloop'))"),
            db.count("SELECT (SELECT count(*) FROM content_metadata) + (SELECT count(*) "
                     "FROM outcomes) + (SELECT count(*) FROM learning_model_weights) + "
                     "(SELECT count(*) FROM reply_opportunities)")};
    };
    auto const before = state();
    loop_run loop{db};
    // what an operator types first, to see the state of the database
    auto const table = loop.tool("validate");
    CHECK(table.exit_code == 1);
    CHECK(table.err.find("error") == std::string::npos);
    CHECK(table.out.find("schema  fail") != std::string::npos);
    CHECK(table.out.find("run xloop-migrate") != std::string::npos);
    CHECK(table.out.find("verdict: NOT READY") != std::string::npos);
    auto const report = loop.validate();
    CHECK(report["verdict"] == "NOT READY");
    CHECK(check_named(report, "schema")["status"] == "fail");
    CHECK_FALSE(report.contains("policy_value"));
    temp_dir out;
    auto const html = loop.tool("validate", {"--html", out.path() + "/report.html"});
    CHECK(html.exit_code == 1);
    CHECK(read_file(out.path() + "/report.html").find("NOT READY") != std::string::npos);

    loop.dir.write("metrics.jsonl", metrics_file(1001, 1003));
    for (auto const& args : std::vector<std::vector<std::string>>{
             {"scrape-metrics", "--input", loop.dir.path() + "/metrics.jsonl"},
             {"build-weights"},
             {"learn-replies"},
             {"plan"},
             {"plan", "--replies", "1"}}) {
        auto const r = loop.tool(args.front(), {args.begin() + 1, args.end()});
        INFO(args.front());
        CHECK(r.exit_code == 78);
        // the database is named: a cron environment may pick another one
        CHECK_THAT(r.err,
                   Catch::Contains(fmt::format(
                       "xloop-migrate has not run on database {} at ", db.name())));
        CHECK_THAT(r.err, Catch::Contains(fmt::format(
                              " ({} migrations pending): if it is the bot's, run "
                              "xloop-migrate on it",
                              embedded_migrations().size())));
    }
    CHECK(state() == before);
}

TEST_CASE("a restored database's views with columns of their own keep them", "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    c.exec(R"sql(
CREATE TABLE tweet_metrics (tweet_id text PRIMARY KEY, likes_count integer);
INSERT INTO tweet_metrics VALUES ('1001', 40), ('1002', 2);
DROP VIEW vw_learning CASCADE;
CREATE VIEW vw_learning AS
    SELECT c.decision_id, c.tweet_id, c.decision_type, c.generator_name,
           c.raw_topic AS topic, c.posted_at, 'plain'::text AS format_strategy,
           tm.likes_count AS tm_likes_count, o.engagement_rate
      FROM content_metadata c
      LEFT JOIN outcomes o ON o.decision_id = c.decision_id
      LEFT JOIN tweet_metrics tm ON tm.tweet_id = c.tweet_id
     WHERE c.status = 'posted' AND c.tweet_id IS NOT NULL;
CREATE VIEW vw_learning_daily AS
    SELECT date_trunc('day', posted_at) AS day, count(*) AS posts,
           sum(tm_likes_count) AS likes
      FROM vw_learning GROUP BY 1;
GRANT SELECT ON vw_learning TO anon;
)sql");
    auto const before = columns_of(c, "public.vw_learning");
    auto const r = run_tool("migrate", {}, &db);
    INFO(r.err << r.out);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("changed vw_learning: kept as it was, with its own columns "
                     "(format_strategy, tm_likes_count)") != std::string::npos);
    CHECK(has_all(columns_of(c, "public.vw_learning"), before));
    CHECK(db.count("SELECT sum(likes) FROM vw_learning_daily") == 42);
    CHECK(can(c, "anon", "public.vw_learning", "SELECT"));
    // content_metadata's columns were a subset of xloop's: it is replaced
    CHECK(has_all(columns_of(c, "public.content_metadata"), content_table_columns()));

    move_posts_into_window(c);
    loop_run loop{db};
    loop.run_every_tool(1001, 1003);
    auto const report = loop.validate();
    CHECK(check_named(report, "schema")["status"] != "fail");
}

TEST_CASE("a restored database's views keep their triggers, rules, column defaults, "
          "comments and grants, and its materialized views their indexes",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    // A dashboard's materialized view (refreshed CONCURRENTLY: that needs its
    // unique index), and a view the bot writes through, on content_metadata,
    // which adopting replaces.
    c.exec(R"sql(
CREATE MATERIALIZED VIEW daily_posts AS
    SELECT date_trunc('day', posted_at) AS day, count(*) AS posts
      FROM content_metadata WHERE posted_at IS NOT NULL GROUP BY 1;
CREATE UNIQUE INDEX daily_posts_day ON daily_posts (day);
CREATE MATERIALIZED VIEW later_posts AS SELECT id FROM content_metadata WITH NO DATA;
CREATE TABLE queue_log (content text);
CREATE FUNCTION log_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO queue_log VALUES (NEW.content); RETURN NEW; END $$;
CREATE VIEW queue AS SELECT id, content, status FROM content_metadata;
CREATE TRIGGER queue_insert INSTEAD OF INSERT ON queue
    FOR EACH ROW EXECUTE FUNCTION log_queue();
CREATE RULE queue_no_delete AS ON DELETE TO queue DO INSTEAD NOTHING;
ALTER VIEW queue ALTER COLUMN status SET DEFAULT 'queued';
COMMENT ON COLUMN queue.content IS 'the text as posted';
GRANT SELECT (content) ON queue TO anon;
COMMENT ON COLUMN content_metadata.tweet_id IS 'set by the poster';
)sql");
    auto const r = run_tool("migrate", {}, &db);
    INFO(r.err << r.out);
    REQUIRE(r.exit_code == 0);

    // Each survived the replacement of content_metadata, and works.
    CHECK(
        db.count("SELECT count(*) FROM pg_indexes WHERE indexname = 'daily_posts_day'") ==
        1);
    c.exec("REFRESH MATERIALIZED VIEW CONCURRENTLY daily_posts");
    CHECK(db.count("SELECT count(*) FROM pg_matviews WHERE matviewname = 'later_posts' "
                   "AND NOT ispopulated") == 1);
    c.exec("INSERT INTO queue (content) VALUES ('hello')");
    CHECK(db.count("SELECT count(*) FROM queue_log WHERE content = 'hello'") == 1);
    auto const items = db.count("SELECT count(*) FROM content_metadata");
    c.exec("DELETE FROM queue");
    CHECK(db.count("SELECT count(*) FROM content_metadata") == items);
    CHECK(c.exec("SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN "
                 "pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE "
                 "d.adrelid = 'public.queue'::regclass AND a.attname = 'status'")
              .str(0, 0) == "'queued'::text");
    auto const comment = [&](char const* rel, int column) {
        return c
            .exec("SELECT col_description($1::regclass, $2::int)", rel,
                  std::to_string(column))
            .opt_str(0, 0)
            .value_or("");
    };
    auto const attnum = [&](char const* rel, char const* column) {
        return static_cast<int>(
            db.count(fmt::format("SELECT attnum FROM pg_attribute WHERE attrelid = "
                                 "'{}'::regclass AND attname = '{}'",
                                 rel, column)));
    };
    CHECK(comment("public.queue", attnum("public.queue", "content")) ==
          "the text as posted");
    CHECK(comment("public.content_metadata",
                  attnum("public.content_metadata", "tweet_id")) == "set by the poster");
    CHECK(c.exec("SELECT has_column_privilege('anon', 'public.queue', 'content', "
                 "'SELECT')")
              .boolean(0, 0));
    CHECK_FALSE(c.exec("SELECT has_column_privilege('anon', 'public.queue', 'status', "
                       "'SELECT')")
                    .boolean(0, 0));
}

// A PostgREST function returning content_metadata's rows: it depends on the
// view's row type, so a DROP VIEW ... CASCADE would take it too.
constexpr char const* create_latest_post =
    "CREATE FUNCTION latest_post() RETURNS SETOF content_metadata LANGUAGE sql STABLE "
    "AS 'SELECT * FROM content_metadata ORDER BY id DESC LIMIT 1'";

TEST_CASE("a view that only gains columns is replaced in place: functions and policies "
          "that depend on it are untouched",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    // content_metadata as "SELECT *" of the base table: adopting only adds
    // columns at its end. A PostgREST function returning its rows, and a
    // policy reading it, would go with a DROP ... CASCADE.
    c.exec(R"sql(
DROP VIEW content_metadata CASCADE;
CREATE VIEW content_metadata AS SELECT * FROM content_generation_metadata_comprehensive;
CREATE TABLE notes (item_id bigint, note text);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY notes_of_items ON notes
    USING (EXISTS (SELECT 1 FROM content_metadata m WHERE m.id = notes.item_id));
)sql");
    c.exec(create_latest_post);
    auto const oid = [&](char const* sql) { return c.exec(sql).str(0, 0); };
    auto const view = oid("SELECT 'public.content_metadata'::regclass::oid");
    auto const function = oid("SELECT 'public.latest_post()'::regprocedure::oid");
    auto const r = run_tool("migrate", {}, &db);
    INFO(r.err << r.out);
    REQUIRE(r.exit_code == 0);
    CHECK(oid("SELECT 'public.content_metadata'::regclass::oid") == view);
    CHECK(oid("SELECT 'public.latest_post()'::regprocedure::oid") == function);
    CHECK(db.count("SELECT count(*) FROM pg_policies WHERE policyname = "
                   "'notes_of_items'") == 1);
    CHECK(has_all(columns_of(c, "public.content_metadata"), content_table_columns()));
    CHECK(db.count("SELECT count(*) FROM latest_post()") == 1);
}

TEST_CASE("a view that must be dropped and made again is refused, naming the function "
          "that would go with it, and nothing of it is changed",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    // The fixture's content_metadata leaves out quality_score, which xloop's
    // "SELECT *" puts before created_at: the view must be dropped.
    c.exec(create_latest_post);
    auto const before = columns_of(c, "public.content_metadata");
    auto const r = run_tool("migrate", {}, &db);
    INFO(r.err << r.out);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("0003_views.sql") != std::string::npos);
    CHECK(r.err.find("public.content_metadata must be dropped and made again") !=
          std::string::npos);
    CHECK(r.err.find("function latest_post()") != std::string::npos);
    CHECK(r.err.find("drop them, run xloop-migrate, then create them again") !=
          std::string::npos);
    CHECK(columns_of(c, "public.content_metadata") == before);
    CHECK(db.count("SELECT count(*) FROM latest_post()") == 1);
    CHECK(db.count("SELECT count(*) FROM vw_learning_daily") > 0);

    // Done as it says: the function out of the way, migrate, the function back.
    c.exec("DROP FUNCTION latest_post()");
    auto const again = run_tool("migrate", {}, &db);
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    c.exec(create_latest_post);
    CHECK(db.count("SELECT count(*) FROM latest_post()") == 1);
}

TEST_CASE("a restored database's vw_learning made a materialized view is left as it is, "
          "and every tool runs",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    c.exec(R"sql(
DROP VIEW vw_learning CASCADE;
CREATE MATERIALIZED VIEW vw_learning AS
    SELECT c.decision_id, c.tweet_id, c.posted_at, c.tone
      FROM content_metadata c WHERE c.status = 'posted' AND c.tweet_id IS NOT NULL;
CREATE UNIQUE INDEX vw_learning_tweet ON vw_learning (tweet_id);
)sql");
    auto const r = run_tool("migrate", {}, &db);
    INFO(r.err << r.out);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("public.vw_learning is a materialized view, not a view: left as it "
                     "is") != std::string::npos);
    CHECK(c.exec("SELECT relkind::text FROM pg_class WHERE oid = "
                 "'public.vw_learning'::regclass")
              .str(0, 0) == "m");
    CHECK(columns_of(c, "public.vw_learning") ==
          std::vector<std::string>{"decision_id", "tweet_id", "posted_at", "tone"});
    c.exec("REFRESH MATERIALIZED VIEW CONCURRENTLY vw_learning");

    every_tool_runs(db, c);
}

TEST_CASE("a restored database whose time series and accounts are partitioned is "
          "migrated and learns as the same database unpartitioned",
          "[db]")
{
    // Both start as the original's database, the reply opportunities with the
    // time they came in; in one, the follower snapshots and opportunities are
    // partitioned by time and the accounts by hash (two partitions: rows at
    // the same ctids in each).
    test_db plain;
    test_db parted;
    for (auto const* db : {&plain, &parted}) {
        db->load_fixture("original_bot.sql");
        db->connect().exec("ALTER TABLE reply_opportunities ADD COLUMN discovered_at "
                           "timestamptz NOT NULL DEFAULT '2025-01-10T00:00:00Z'");
    }
    auto c = parted.connect();
    c.exec(R"sql(
ALTER TABLE follower_snapshots RENAME TO follower_snapshots_plain;
CREATE TABLE follower_snapshots (LIKE follower_snapshots_plain INCLUDING DEFAULTS)
    PARTITION BY RANGE ("timestamp");
CREATE TABLE follower_snapshots_old PARTITION OF follower_snapshots
    FOR VALUES FROM (MINVALUE) TO ('2025-01-11');
CREATE TABLE follower_snapshots_new PARTITION OF follower_snapshots DEFAULT;
INSERT INTO follower_snapshots SELECT * FROM follower_snapshots_plain;

ALTER TABLE reply_opportunities RENAME TO reply_opportunities_plain;
CREATE TABLE reply_opportunities (LIKE reply_opportunities_plain INCLUDING DEFAULTS)
    PARTITION BY RANGE (discovered_at);
CREATE TABLE reply_opportunities_all PARTITION OF reply_opportunities DEFAULT;
INSERT INTO reply_opportunities SELECT * FROM reply_opportunities_plain;

ALTER TABLE discovered_accounts RENAME TO discovered_accounts_plain;
CREATE TABLE discovered_accounts (LIKE discovered_accounts_plain INCLUDING DEFAULTS)
    PARTITION BY HASH (id);
CREATE TABLE discovered_accounts_0 PARTITION OF discovered_accounts
    FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE discovered_accounts_1 PARTITION OF discovered_accounts
    FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO discovered_accounts SELECT * FROM discovered_accounts_plain;
)sql");
    REQUIRE(c.exec("SELECT count(DISTINCT tableoid) = 2 AND count(DISTINCT ctid) < "
                   "count(*) FROM discovered_accounts")
                .boolean(0, 0));

    auto const dry = run_tool("migrate", {"--dry-run"}, &parted);
    CHECK(dry.out.find("follower_snapshots_snapshot_at_idx (follower_snapshots is "
                       "partitioned: not concurrently)") != std::string::npos);
    auto const r = run_tool("migrate", {}, &parted);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(
        r.err.find("0005_indexes: public.follower_snapshots is partitioned: index "
                   "follower_snapshots_snapshot_at_idx is built without CONCURRENTLY") !=
        std::string::npos);
    CHECK(r.err.find("reply_opportunities: unique index reply_opportunities_tweet_id_key "
                     "not created") != std::string::npos);
    CHECK(c.exec("SELECT reloptions::text FROM pg_class WHERE oid = "
                 "'discovered_accounts_1'::regclass")
              .str(0, 0) == "{fillfactor=50}");
    REQUIRE(run_tool("migrate", {"-q"}, &plain).exit_code == 0);

    // replies to learn from: the posts' targets are accounts of both partitions
    auto const shape = [](test_db const& db) {
        return db.connect()
            .exec(R"sql(
SELECT (SELECT string_agg(username || '=' || coalesce(priority_score::text, '-') || '/' ||
                          coalesce(reply_performance_score::text, '-'), ', '
                          ORDER BY id) FROM discovered_accounts),
       (SELECT string_agg(tweet_id || '=' || status, ', ' ORDER BY tweet_id)
          FROM reply_opportunities),
       (SELECT count(*) FROM follower_snapshots WHERE snapshot_at IS NOT NULL))sql")
            .str(0, 0);
    };
    for (auto const* db : {&plain, &parted}) {
        auto d = db->connect();
        move_posts_into_window(d);
        d.exec("UPDATE content_generation_metadata_comprehensive SET decision_type = "
               "'reply', target_username = CASE id % 3 WHEN 0 THEN 'joe_x' WHEN 1 THEN "
               "'joeAx' ELSE 'analyst_amy' END WHERE tweet_id IS NOT NULL");
        loop_run loop{*db};
        loop.run_every_tool(1001, 1003);
        CHECK(check_named(loop.validate(), "schema")["status"] != "fail");
    }
    INFO(shape(plain));
    CHECK(shape(parted) == shape(plain));
    CHECK(parted.count("SELECT count(*) FROM discovered_accounts WHERE "
                       "reply_performance_score IS NOT NULL") > 0);
}

TEST_CASE("outcomes partitioned by time are refused before any change, and by the hash "
          "of decision_id migrated",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    c.exec(R"sql(
ALTER TABLE outcomes RENAME TO outcomes_plain;
CREATE TABLE outcomes (LIKE outcomes_plain INCLUDING DEFAULTS)
    PARTITION BY RANGE (collected_at);
CREATE TABLE outcomes_all PARTITION OF outcomes DEFAULT;
INSERT INTO outcomes SELECT * FROM outcomes_plain;
)sql");
    auto const r = refused_before_any_change(db);
    CHECK(r.err.find("public.outcomes is partitioned (RANGE (collected_at)): "
                     "scrape-metrics keeps one outcome per decision by a unique index on "
                     "decision_id alone") != std::string::npos);

    c.exec(R"sql(
DROP TABLE outcomes;
CREATE TABLE outcomes (LIKE outcomes_plain INCLUDING DEFAULTS)
    PARTITION BY HASH (decision_id);
CREATE TABLE outcomes_0 PARTITION OF outcomes FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE outcomes_1 PARTITION OF outcomes FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO outcomes SELECT * FROM outcomes_plain;
)sql");
    auto const rows = db.count("SELECT count(*) FROM outcomes");
    auto const m = run_tool("migrate", {"-q"}, &db);
    INFO(m.err);
    CHECK(m.exit_code == 0);
    CHECK(c.exec("SELECT xloop.has_unique_index('public.outcomes', 'decision_id')")
              .boolean(0, 0));
    // older duplicates moved aside, as on a plain table
    CHECK(db.count("SELECT count(*) FROM outcomes") +
              db.count("SELECT count(*) FROM xloop.outcomes_superseded") ==
          rows);
}

TEST_CASE("times and counts held as text or seconds are refused before any change, and "
          "converted as it says every tool runs",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    // as a bot that wrote JavaScript's values as they came: ISO text, epoch
    // seconds, numbers as strings
    alter_content_table(c, R"sql(
ALTER TABLE content_generation_metadata_comprehensive
    ALTER COLUMN posted_at TYPE text,
    ALTER COLUMN created_at DROP DEFAULT,
    ALTER COLUMN created_at TYPE bigint USING extract(epoch FROM created_at)::bigint,
    ALTER COLUMN created_at SET DEFAULT extract(epoch FROM now())::bigint;
ALTER TABLE follower_snapshots ALTER COLUMN follower_count TYPE text;
ALTER TABLE outcomes ALTER COLUMN likes TYPE text;
)sql");
    auto const posted = db.count("SELECT count(posted_at) FROM content_metadata");
    std::string const alters =
        "ALTER TABLE public.content_generation_metadata_comprehensive ALTER COLUMN "
        "created_at DROP DEFAULT, ALTER COLUMN created_at TYPE timestamptz USING "
        "to_timestamp(created_at), ALTER COLUMN created_at SET DEFAULT now(); "
        "ALTER TABLE public.content_generation_metadata_comprehensive ALTER COLUMN "
        "posted_at TYPE timestamptz USING nullif(btrim(posted_at::text), "
        "'')::timestamptz; "
        "ALTER TABLE public.follower_snapshots ALTER COLUMN follower_count TYPE bigint "
        "USING "
        "nullif(btrim(follower_count::text), '')::bigint; "
        "ALTER TABLE public.outcomes ALTER COLUMN likes TYPE bigint USING "
        "nullif(btrim(likes::text), '')::bigint";
    for (auto const& args : {std::vector<std::string>{"--dry-run"}, {}}) {
        auto const r = refused_before_any_change(db, args);
        CHECK(
            r.err.find("content_generation_metadata_comprehensive.created_at is bigint, "
                       "content_generation_metadata_comprehensive.posted_at is text, "
                       "follower_snapshots.follower_count is text, outcomes.likes is "
                       "text: ") != std::string::npos);
        CHECK(r.err.find("to_timestamp reads seconds since 1970") != std::string::npos);
        CHECK(r.err.find(alters) != std::string::npos);
    }

    // as it says (the view reading two of them dropped first)
    c.exec("DROP VIEW content_metadata; " + alters);
    REQUIRE(run_tool("migrate", {"-q"}, &db).exit_code == 0);
    CHECK(db.count("SELECT count(posted_at) FROM content_metadata") == posted);
    CHECK(db.count("SELECT count(*) FROM content_metadata WHERE created_at < "
                   "'2024-01-01'") == 0);
    every_tool_runs(db, c);
}

TEST_CASE("a count column made text after migrate fails validate's schema check with its "
          "ALTER, and the job that reads it points there",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    REQUIRE(run_tool("migrate", {"-q"}, &db).exit_code == 0);
    auto c = db.connect();
    c.exec("ALTER TABLE follower_snapshots ALTER COLUMN follower_count TYPE text");
    c.exec("ALTER TABLE discovered_accounts ALTER COLUMN priority_score TYPE text");
    loop_run loop{db};
    auto const report = loop.validate();
    auto const schema = check_named(report, "schema");
    CHECK(schema["status"] == "fail");
    CHECK(schema["message"].get<std::string>().find(
              "follower_snapshots.follower_count is text: ") != std::string::npos);
    CHECK(schema["message"].get<std::string>().find(
              "ALTER TABLE public.follower_snapshots ALTER COLUMN follower_count TYPE "
              "bigint USING nullif(btrim(follower_count::text), '')::bigint") !=
          std::string::npos);
    // the checks that read such a column say so; validate ends as it should,
    // its page too
    CHECK(check_named(report, "reply_priorities")["message"].get<std::string>().find(
              "cannot be checked until the schema check passes") != std::string::npos);
    CHECK(loop.tool("validate", {"--html", loop.dir.path() + "/report.html"}).exit_code ==
          1);

    loop.dir.write("metrics.jsonl", metrics_file(1001, 1003));
    auto const r =
        loop.tool("scrape-metrics", {"--input", loop.dir.path() + "/metrics.jsonl"});
    CHECK(r.exit_code == 70);
    CHECK(r.err.find("xloop-validate's schema check names such columns") !=
          std::string::npos);
}

TEST_CASE("decision types the bot spelled 'Reply' or ' THREAD' are spelled as xloop "
          "writes them, with a warning that counts them",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    c.exec("UPDATE content_generation_metadata_comprehensive SET decision_type = CASE "
           "decision_type WHEN 'reply' THEN 'Reply' WHEN 'thread' THEN ' THREAD' ELSE "
           "decision_type END");
    auto const r = run_tool("migrate", {}, &db);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("content_generation_metadata_comprehensive: decision_type of 2 rows "
                     "spelled as xloop writes it") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM content_generation_metadata_comprehensive WHERE "
                   "decision_type = 'reply'") == 1);
    CHECK(db.count("SELECT count(*) FROM content_generation_metadata_comprehensive WHERE "
                   "decision_type = 'thread'") == 1);
}

TEST_CASE("an enum without the words xloop writes is refused before any change, and made "
          "text as it says every tool runs",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    alter_content_table(c, R"sql(
CREATE TYPE decision_kind AS ENUM ('SINGLE', 'THREAD', 'REPLY');
ALTER TABLE content_generation_metadata_comprehensive
    ALTER COLUMN decision_type TYPE decision_kind USING upper(decision_type)::decision_kind;
)sql");
    std::string const to_text =
        "ALTER TABLE public.content_generation_metadata_comprehensive ALTER COLUMN "
        "decision_type TYPE text USING lower(decision_type::text)";
    for (auto const& args : {std::vector<std::string>{"--dry-run"}, {}}) {
        auto const r = refused_before_any_change(db, args);
        CHECK(r.err.find("content_generation_metadata_comprehensive.decision_type is the "
                         "enum decision_kind (SINGLE, THREAD, REPLY), without 'single', "
                         "'thread', 'reply'") != std::string::npos);
        CHECK(r.err.find(to_text) != std::string::npos);
        CHECK(r.err.find("ALTER TYPE decision_kind ADD VALUE IF NOT EXISTS 'reply'") !=
              std::string::npos);
    }

    c.exec("DROP VIEW content_metadata; " + to_text);
    REQUIRE(run_tool("migrate", {"-q"}, &db).exit_code == 0);
    CHECK(db.count("SELECT count(*) FROM content_metadata WHERE decision_type = "
                   "'reply'") == 1);
    every_tool_runs(db, c);
}

TEST_CASE("a restored database with a text version column runs every tool", "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    c.exec("ALTER TABLE learning_model_weights ADD COLUMN version text");
    c.exec("UPDATE learning_model_weights SET version = '1.1760000000000'");
    REQUIRE(run_tool("migrate", {"-q"}, &db).exit_code == 0);
    CHECK(c.exec("SELECT pg_typeof(version)::text FROM learning_model_weights LIMIT 1")
              .str(0, 0) == "text");

    move_posts_into_window(c);
    loop_run loop{db};
    loop.run_every_tool(1001, 1003);
    CHECK(
        c.exec("SELECT version FROM learning_model_weights WHERE is_active").str(0, 0) ==
        "2");
    auto const report = loop.validate();
    CHECK(check_named(report, "weight_map")["status"] != "fail");
    // The original's accounts all sit at priority 0: not called learned.
    auto const replies = check_named(report, "reply_priorities");
    INFO(replies.dump());
    CHECK(replies["numbers"]["accounts_with_priority"].get<int>() <= 1);
}

TEST_CASE("numbers no double holds in the original's numeric columns are left out with "
          "a warning, never a failed run",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    REQUIRE(run_tool("migrate", {"-q"}, &db).exit_code == 0);
    move_posts_into_window(c);
    loop_run loop{db};
    loop.run_every_tool(1001, 1003);
    // engagement_rate and priority_score are the original's, numeric with no
    // precision: 1e400 fits them, and no double
    c.exec("UPDATE outcomes SET engagement_rate = 1e400 WHERE tweet_id = '1001'");
    c.exec("UPDATE reply_opportunities SET status = 'pending', discovered_at = "
           "$1::timestamptz - interval '1 hour' WHERE tweet_author = 'analyst_amy'",
           now);
    c.exec("DELETE FROM content_generation_metadata_comprehensive WHERE status = "
           "'queued' AND decision_type = 'reply'");
    auto const weights = loop.tool("build-weights");
    CHECK(weights.exit_code == 0);
    CHECK(weights.err.find("1 row of the window has a NaN or infinite metric") !=
          std::string::npos);
    CHECK(loop.tool("learn-replies").exit_code == 0);
    // (after learn-replies, which sets an account with no replies to 0.5)
    c.exec("UPDATE discovered_accounts SET priority_score = 1e400 WHERE username = "
           "'analyst_amy'");
    auto const replies = loop.tool("plan", {"--replies", "1", "--dry-run"});
    CHECK(replies.exit_code == 0);
    CHECK(replies.err.find("(e.g. @analyst_amy: inf)") != std::string::npos);
    CHECK(replies.err.find("would reply to @analyst_amy") != std::string::npos);
    CHECK(check_named(loop.validate(), "weight_map")["status"] != "fail");
}

TEST_CASE("a restored database whose tables are keyed by uuids runs every tool", "[db]")
{
    test_db db;
    auto c = db.connect();
    // Supabase's default key for a new table
    c.exec(original_with("bigserial PRIMARY KEY",
                         "uuid PRIMARY KEY DEFAULT gen_random_uuid()", 6));
    REQUIRE(run_tool("migrate", {"-q"}, &db).exit_code == 0);
    move_posts_into_window(c);
    open_reply_opportunities(c);

    loop_run loop{db};
    loop.run_every_tool(1001, 1003);
    // build-weights' new map is active; plan drew from it and names it
    auto const map_id =
        c.exec("SELECT id::text FROM learning_model_weights WHERE is_active").str(0, 0);
    CHECK(map_id.size() == 36);
    CHECK(db.count(fmt::format("SELECT count(*) FROM "
                               "content_generation_metadata_comprehensive WHERE "
                               "features->>'map_id' = '{}'",
                               map_id)) == 2);
    // the pending opportunity was taken and marked with its reply's decision
    CHECK(db.count("SELECT count(*) FROM reply_opportunities o JOIN "
                   "content_generation_metadata_comprehensive i ON i.decision_id = "
                   "o.decision_id WHERE o.status = 'replied' AND i.features->>"
                   "'opportunity_id' = o.id::text") == 1);
    CHECK(check_named(loop.validate(), "weight_map")["status"] != "fail");
}

TEST_CASE("a restored database whose columns are an enum, a text[] of parts and json "
          "runs every tool",
          "[db]")
{
    test_db db;
    auto c = db.connect();
    // Supabase schemas use enums; parts as an array and json are other shapes
    // a bot may have: every value plan writes takes the column's own type.
    c.exec("CREATE TYPE decision_kind AS ENUM ('single', 'thread', 'reply')");
    c.exec(original_with(
        {{"    decision_type   text,", "    decision_type   decision_kind,"},
         {"    quality_score   numeric,",
          "    quality_score   numeric, thread_parts text[], features json,"},
         {"    weights     jsonb,", "    weights     json,"}}));
    auto const m = run_tool("migrate", {}, &db);
    INFO(m.err);
    REQUIRE(m.exit_code == 0);
    CHECK(base_column_type(c, "decision_type") == "decision_kind");
    CHECK(base_column_type(c, "thread_parts") == "text[]");
    CHECK(base_column_type(c, "features") == "json");
    move_posts_into_window(c);
    open_reply_opportunities(c);

    loop_run loop{db};
    loop.run_every_tool(1001, 1003);
    CHECK(db.count("SELECT count(*) FROM content_generation_metadata_comprehensive WHERE "
                   "generation_source = 'xloop' AND decision_type = 'reply' AND "
                   "features->>'policy' = 'thompson_account'") == 1);
    CHECK(db.count("SELECT count(*) FROM content_generation_metadata_comprehensive WHERE "
                   "generation_source = 'xloop' AND decision_type <> 'reply'") == 2);
    // a thread's parts, had plan drawn one, are an array of texts: none is
    // a json value
    CHECK(db.count("SELECT count(*) FROM content_generation_metadata_comprehensive WHERE "
                   "thread_parts IS NOT NULL AND thread_parts[1] LIKE '[%'") == 0);
    auto const report = loop.validate();
    CHECK(check_named(report, "weight_map")["status"] != "fail");
    CHECK(check_named(report, "schema")["status"] != "fail");
}

TEST_CASE("a varchar(n) too narrow for what plan writes is refused before anything is "
          "written, and xloop.alter_column_type widens it keeping every view",
          "[db]")
{
    test_db db;
    auto c = db.connect();
    // The bot's own limits: its hooks fit 8 characters (the operator's
    // catalogue below has longer ones), no post fits 50.
    c.exec(original_with(
        {{"    hook_type       text,", "    hook_type       varchar(8),"},
         {"    content         text,", "    content         varchar(50),"}}));
    auto const m = run_tool("migrate", {}, &db);
    INFO(m.err);
    REQUIRE(m.exit_code == 0);
    loop_run loop{db};
    loop.dir.write("xloop.yaml", "weights:\n  min_posts: 2\nplan:\n  catalogue:\n    "
                                 "hook_type: [statistic, contrarian]\n");
    for (auto const& args : {std::vector<std::string>{"--dry-run"},
                             std::vector<std::string>{"--seed", "7"}}) {
        auto const plan = loop.tool("plan", args);
        CHECK(plan.exit_code == 65);
        CHECK(plan.err.find("content_generation_metadata_comprehensive.content is "
                            "character varying(50), too short for \"") !=
              std::string::npos);
        CHECK(plan.err.find("content_generation_metadata_comprehensive.hook_type is "
                            "character varying(8)") != std::string::npos);
        CHECK(plan.err.find("nothing was written") != std::string::npos);
        CHECK(plan.err.find("SELECT xloop.alter_column_type('public.content_generation_"
                            "metadata_comprehensive', 'hook_type', 'text')") !=
              std::string::npos);
    }
    CHECK(xloop_items(db) == 0);
    // validate says so before plan has run: the catalogue against the columns
    auto const schema = check_named(loop.validate(), "schema");
    CHECK(schema["status"] == "fail");
    CHECK(schema["message"].get<std::string>().find(
              "content_generation_metadata_comprehensive.hook_type is character "
              "varying(8), "
              "too short for \"contrarian\" (10 characters): xloop-plan refuses to write "
              "it. Widen it: SELECT xloop.alter_column_type(") != std::string::npos);

    // What the message says to run: the column widened, content_metadata,
    // both vw_learnings and the operator's view on top made again as they
    // were (PostgreSQL's own ALTER refuses while they read it).
    CHECK_THROWS_WITH(c.exec("ALTER TABLE content_generation_metadata_comprehensive "
                             "ALTER COLUMN hook_type TYPE text"),
                      Catch::Contains("used by a view"));
    auto const widened =
        c.exec("SELECT xloop.alter_column_type('public.content_generation_metadata_"
               "comprehensive', 'hook_type', 'text')")
            .str(0, 0);
    CHECK(widened.find("hook_type: character varying(8) → text; made again: "
                       "public.content_metadata") != std::string::npos);
    for (auto const* view :
         {"public.vw_learning", "xloop.vw_learning", "public.vw_learning_daily"}) {
        CHECK(widened.find(view) != std::string::npos);
        CHECK(relkind(c, view) == "v");
    }
    c.exec("SELECT xloop.alter_column_type('public.content_generation_metadata_"
           "comprehensive', 'content', 'text')");
    CHECK(base_column_type(c, "hook_type") == "text");
    CHECK(column_type(c, "public.content_metadata", "hook_type") == "text");
    CHECK(can(c, "anon", "public.content_metadata", "SELECT"));
    CHECK(can(c, "authenticated", "public.vw_learning_daily", "SELECT"));
    CHECK(
        c.exec("SELECT obj_description('public.vw_learning_daily'::regclass, 'pg_class')")
            .str(0, 0) == "posts per day, for the dashboard");
    CHECK(db.count("SELECT count(*) FROM content_metadata") == 5);

    CHECK(loop.tool("plan", {"--seed", "7"}).exit_code == 0);
    CHECK(xloop_items(db) > 0);
    CHECK(check_named(loop.validate(), "schema")["status"] != "fail");
}

TEST_CASE("xloop.alter_column_type changes nothing where a view it must drop has a "
          "dependent it cannot make again, and names it, and a column no view reads is "
          "altered alone",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    REQUIRE(run_tool("migrate", {}, &db).exit_code == 0);
    c.exec(create_latest_post);
    CHECK_THROWS_WITH(
        c.exec("SELECT xloop.alter_column_type('public.content_generation_metadata_"
               "comprehensive', 'hook_type', 'varchar(200)')"),
        Catch::Contains("changing content_generation_metadata_comprehensive."
                        "hook_type drops the views that read it, and with them function "
                        "latest_post()"));
    CHECK(base_column_type(c, "hook_type") == "text");
    CHECK(db.count("SELECT count(*) FROM latest_post()") == 1);
    CHECK(relkind(c, "public.vw_learning_daily") == "v");

    // A column of the bot's own that no view reads (content_metadata was
    // made before it): no view is dropped.
    c.exec("ALTER TABLE content_generation_metadata_comprehensive ADD COLUMN note "
           "varchar(10)");
    auto const views = db.count("SELECT count(*) FROM pg_class WHERE relkind = 'v'");
    CHECK(c.exec("SELECT xloop.alter_column_type('public.content_generation_metadata_"
                 "comprehensive', 'note', 'text')")
              .str(0, 0) == "content_generation_metadata_comprehensive.note: character "
                            "varying(10) → text");
    CHECK(base_column_type(c, "note") == "text");
    CHECK(db.count("SELECT count(*) FROM latest_post()") == 1);
    CHECK(db.count("SELECT count(*) FROM pg_class WHERE relkind = 'v'") == views);
}

TEST_CASE(
    "a NOT NULL column or a CHECK of an adopted table that rejects plan's rows exits "
    "65, naming it and the change that lets them in",
    "[db]")
{
    test_db db;
    auto c = db.connect();
    c.exec(original_with(std::vector<fixture_edit>{}));
    REQUIRE(run_tool("migrate", {}, &db).exit_code == 0);
    loop_run loop{db};

    // A column of the bot's own that every row had, made NOT NULL later.
    c.exec(
        "ALTER TABLE content_generation_metadata_comprehensive ADD COLUMN platform text");
    c.exec("UPDATE content_generation_metadata_comprehensive SET platform = 'x'");
    c.exec(
        "ALTER TABLE content_generation_metadata_comprehensive ALTER COLUMN platform SET "
        "NOT NULL");
    auto const not_null = loop.tool("plan", {"--seed", "7"});
    CHECK(not_null.exit_code == 65);
    CHECK(
        not_null.err.find("public.content_generation_metadata_comprehensive.platform is "
                          "NOT NULL without a default") != std::string::npos);
    CHECK(not_null.err.find("ALTER TABLE \"public\".\"content_generation_metadata_"
                            "comprehensive\" ALTER COLUMN \"platform\" SET DEFAULT") !=
          std::string::npos);
    CHECK(xloop_items(db) == 0);
    // The advice before the server's detail (the whole failing row): it is
    // what validate's line for the job still shows.
    CHECK(not_null.err.find("SET DEFAULT") < not_null.err.find("; detail: Failing row"));
    auto const job = check_named(loop.validate(), "job:plan");
    CHECK(job["status"] == "fail");
    CHECK(
        job["message"].get<std::string>().find(
            "ALTER TABLE \"public\".\"content_generation_metadata_comprehensive\" ALTER "
            "COLUMN \"platform\" SET DEFAULT") != std::string::npos);
    c.exec(
        "ALTER TABLE content_generation_metadata_comprehensive ALTER COLUMN platform SET "
        "DEFAULT 'x'");

    // The bot's statuses, checked for new rows only: 'queued' is not one.
    c.exec(
        "ALTER TABLE content_generation_metadata_comprehensive ADD CONSTRAINT bot_status "
        "CHECK (status IN ('draft', 'posted', 'failed')) NOT VALID");
    auto const check = loop.tool("plan", {"--seed", "7"});
    CHECK(check.exit_code == 65);
    CHECK(check.err.find("the check constraint bot_status of "
                         "public.content_generation_metadata_comprehensive") !=
          std::string::npos);
    CHECK(check.err.find("DROP CONSTRAINT \"bot_status\"") != std::string::npos);
    CHECK(xloop_items(db) == 0);
    c.exec("ALTER TABLE content_generation_metadata_comprehensive DROP CONSTRAINT "
           "bot_status");

    CHECK(loop.tool("plan", {"--seed", "7"}).exit_code == 0);
    CHECK(xloop_items(db) > 0);
}

TEST_CASE("a restored database whose decision ids are text runs every tool, each "
          "outcome on its own post",
          "[db]")
{
    test_db db;
    auto c = db.connect();
    // the same shape with decision_id as text (a uuid's text in each row)
    c.exec(original_with("decision_id     uuid", "decision_id     text", 2));
    REQUIRE(run_tool("migrate", {"-q"}, &db).exit_code == 0);
    CHECK(base_column_type(c, "decision_id") == "text");
    move_posts_into_window(c);
    c.exec("INSERT INTO reply_opportunities (tweet_id, tweet_author, tweet_content, "
           "opportunity_score, discovered_at) VALUES ('9003', 'analyst_amy', 'a take', "
           "0.8, $1::timestamptz - interval '10 minutes')",
           now);

    loop_run loop{db};
    loop.run_every_tool(1001, 1003);
    // each outcome on its post: no row under another id
    CHECK(db.count("SELECT count(*) FROM outcomes") == 3);
    CHECK(db.count("SELECT count(*) FROM outcomes o JOIN "
                   "content_generation_metadata_comprehensive c ON c.decision_id = "
                   "o.decision_id AND c.tweet_id = o.tweet_id "
                   "WHERE o.primary_objective_score IS NOT NULL") == 3);
    // the file's counts on the base table: 1000 + 100·(1002 mod 7)
    CHECK(db.count("SELECT actual_impressions FROM "
                   "content_generation_metadata_comprehensive WHERE tweet_id = '1002'") ==
          1100);
    // the reply plan took the fresh opportunity for its new decision
    CHECK(db.count("SELECT count(*) FROM reply_opportunities r JOIN "
                   "content_generation_metadata_comprehensive c ON c.decision_id::uuid = "
                   "r.decision_id WHERE r.tweet_id = '9003' AND r.status = 'replied'") ==
          1);
}

TEST_CASE("a posted item whose decision id is missing or not a uuid is named, and every "
          "other post still gets its outcome",
          "[db]")
{
    // The original's decision_id as text with an id of its own, and as a
    // uuid left NULL by a writer that does not set it: one statement read
    // every post's id as a uuid (an error, and a crash on the NULL).
    for (auto const text_ids : {true, false}) {
        DYNAMIC_SECTION((text_ids ? "text 'legacy-42'" : "uuid NULL"))
        {
            test_db db;
            auto c = db.connect();
            if (text_ids) {
                c.exec(original_with("decision_id     uuid", "decision_id     text", 2));
            } else {
                db.load_fixture("original_bot.sql");
            }
            REQUIRE(run_tool("migrate", {"-q"}, &db).exit_code == 0);
            move_posts_into_window(c);
            // migrate gave the column a default: an item written without an
            // id gets one (a writer may still write NULL, as below)
            c.exec(
                "INSERT INTO content_generation_metadata_comprehensive (status) VALUES "
                "('failed')");
            CHECK(
                db.count("SELECT count(*) FROM content_generation_metadata_comprehensive "
                         "WHERE decision_id IS NULL") == 0);
            c.exec("INSERT INTO content_generation_metadata_comprehensive (decision_id, "
                   "status, tweet_id, posted_at, decision_type, created_at) VALUES ($1, "
                   "'posted', '1004', $2::timestamptz - interval '1 day', 'single', "
                   "$2::timestamptz - interval '25 hours')",
                   text_ids ? std::optional<std::string>{"legacy-42"} : std::nullopt,
                   now);
            // and one older than the v2 pass's month: its counts are stored
            // under a text id of its own, not under none
            c.exec("INSERT INTO content_generation_metadata_comprehensive (decision_id, "
                   "status, tweet_id, posted_at, decision_type, created_at) VALUES ($1, "
                   "'posted', '1005', $2::timestamptz - interval '40 days', 'single', "
                   "$2::timestamptz - interval '40 days')",
                   text_ids ? std::optional<std::string>{"legacy-43"} : std::nullopt,
                   now);

            loop_run loop{db};
            loop.dir.write("metrics.jsonl", metrics_file(1001, 1005));
            auto const r =
                loop.tool("scrape-metrics",
                          {"--input", loop.dir.path() + "/metrics.jsonl", "--json"});
            REQUIRE(r.exit_code == 0);
            auto const summary = json::parse(r.out);
            CHECK(summary["without_decision_id"] == (text_ids ? 1 : 2));
            CHECK(summary["unknown_tweets"] == 0); // they are known, only unkeyed
            CHECK(r.err.find(text_ids ? "1 post with metrics has no decision_id that is "
                                        "a uuid (e.g. tweet "
                                      : "2 posts with metrics have no decision_id that "
                                        "is a uuid (e.g. tweet ") != std::string::npos);
            CHECK(db.count("SELECT count(*) FROM outcomes WHERE tweet_id = '1005'") ==
                  (text_ids ? 1 : 0));
            // the other three have their v2 outcome; nothing is stored under 1004
            CHECK(db.count("SELECT count(*) FROM outcomes WHERE primary_objective_score "
                           "IS NOT NULL AND tweet_id IN ('1001', '1002', '1003')") == 3);
            CHECK(db.count("SELECT count(*) FROM outcomes WHERE tweet_id = '1004'") == 0);

            auto const items = check_named(loop.validate(), "posted_items");
            INFO(items.dump());
            CHECK(items["status"] == "fail"); // the only item of the window
            CHECK(items["numbers"]["without_uuid_decision_id"] == 1);
            CHECK(items["message"].get<std::string>().find(text_ids ? "(e.g. 'legacy-42')"
                                                                    : "(e.g. NULL)") !=
                  std::string::npos);
        }
    }
}

TEST_CASE("a restored database whose times are timestamp without time zone runs every "
          "tool",
          "[db]")
{
    test_db db;
    auto c = db.connect();
    c.exec(original_with("timestamptz", "timestamp", 5));
    auto const m = run_tool("migrate", {}, &db);
    INFO(m.err);
    REQUIRE(m.exit_code == 0);
    // no index can convert posted_at: the calendar index is left out, and said so
    CHECK(m.err.find("0008_calendar_index skipped (recorded as applied): the base "
                     "table's posted_at, created_at is timestamp without time zone") !=
          std::string::npos);
    CHECK(run_tool("migrate", {"status", "--check"}, &db).exit_code == 0);
    CHECK(base_column_type(c, "posted_at") == "timestamp without time zone");
    move_posts_into_window(c);

    loop_run loop{db};
    loop.run_every_tool(1001, 1003);
    CHECK(db.count("SELECT count(*) FROM outcomes WHERE primary_objective_score IS NOT "
                   "NULL") == 3);
    CHECK(db.count("SELECT actual_impressions FROM "
                   "content_generation_metadata_comprehensive WHERE tweet_id = '1002'") ==
          1100);
    // plan's queue is in the calendar's times, after the bot's queued item
    CHECK(db.count(fmt::format("SELECT count(*) FROM "
                               "content_generation_metadata_comprehensive WHERE "
                               "generation_source = 'xloop' AND decision_type <> 'reply' "
                               "AND scheduled_at > '{}'",
                               now)) == 2);
    auto const report = loop.validate();
    CHECK(check_named(report, "schema")["status"] != "fail");
}
