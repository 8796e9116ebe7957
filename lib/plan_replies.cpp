#include "plan_replies.hpp"

#include "app.hpp"
#include "copy_row.hpp"
#include "db.hpp"
#include "json_text.hpp"
#include "log.hpp"
#include "plan_items.hpp"
#include "reply_opportunity.hpp"
#include "row_id.hpp"
#include "sampling.hpp"
#include "stored_values.hpp"
#include "text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <set>
#include <unordered_set>

namespace xloop {

namespace {

// "@amy" → "amy": harvesters write authors either way.
std::string_view ltrim_at(std::string_view s)
{
    while (!s.empty() && s.front() == '@') {
        s.remove_prefix(1);
    }
    return s;
}

// The open opportunities: pending, fresh, by an author not replied to within
// the cooldown, with the author's priority. COPY takes no parameters: {0} is
// now, {1} the freshness limit, {2} the cooldown limit, as quoted literals.
// Each candidate is read by its row's address (table oid and ctid), not its
// key: the key may be a bigint, a uuid or text (adopted tables), and 10⁶
// uuids as text held 36 MB. An opportunity that cannot be replied to
// ({3}, unusable_opportunity_sql(): an author that is no X handle was replied to
// as "Useful, @@." to no one) is left out. They come as one last row per reason, with
// no address, their count, one of them and the reason, for a warning (a query of their
// own cost 0.4 s at 10⁶; {5} words a score's example); {4} (opportunity_score_sql())
// reads the score. The priority is looked up once per distinct author, not per candidate:
// at 10⁶ candidates by 10⁵ authors a lookup per row took 7 s against 3 s, and a hash of
// every account costs a small queue 0.1 s. Authors and reply targets are matched as
// accounts ({6}, {7}: account_key_sql()), so the original bot's replies to '@amy' count
// for her cooldown; the priority of its row '@Amy' is amy's (learn-replies writes it
// there), looked up by the index of that key ({10}, 0021), or as either spelling by
// the unique index on lower(username) until migrate has built it.
// The account's own posts are left out too, by its handle here ({8},
// own_post_sql()) and by tweet id when taken: a harvester that searches the
// account's topics finds them, and a reply to itself is noise to its
// followers and a reply slot lost. {9} reads the priority: one beyond a
// double (1e999 in a numeric) is +Infinity, ranked with the nearest bound.
constexpr char const* open_candidates_sql = R"sql(
COPY (WITH open AS MATERIALIZED (
             SELECT r.id, r.tableoid, r.ctid, {7} AS author,
                    {4} AS opportunity, u.unusable,
                    -- kept for those left out only (the rows spill to disk)
                    CASE u.unusable WHEN 1 THEN coalesce(r.tweet_author, '(null)')
                                    WHEN 2 THEN coalesce(r.tweet_id::text, '(null)')
                                    WHEN 3 THEN {5}
                                    WHEN 4 THEN 'tweet ' || r.tweet_id::text || ' by @'
                                                || ltrim(btrim(r.tweet_author), '@')
                    END AS example
               FROM public.reply_opportunities r
              CROSS JOIN LATERAL (SELECT coalesce({3}, {8}) AS unusable) u
              WHERE r.status = 'pending'
                AND r.discovered_at > {1}::timestamptz
                AND r.discovered_at <= {0}::timestamptz
                AND NOT EXISTS (
                    SELECT 1 FROM public.content_generation_metadata_comprehensive c
                     WHERE c.decision_type = 'reply'
                       -- an equality, so it hashes: IN (amy, '@amy') was a
                       -- nested loop, 19.6 s against 8.7 at 10^6 candidates
                       -- (ASCII only: a LATIN1 database reads this text)
                       AND {6} = {7}
                       AND c.created_at > {2}::timestamptz)),
           -- by the account key learn-replies writes by (an index of it,
           -- 0021): ' Amy' and '@amy' are amy. An account listed twice is
           -- ranked by the usable one: NaN sorts above every number.
           priority AS (
             SELECT a.author,
                    (SELECT coalesce(max(d.priority_score)
                                       FILTER (WHERE d.priority_score BETWEEN 0 AND 1),
                                     max(d.priority_score))
                       FROM public.discovered_accounts d
                      WHERE {10}) AS priority
               FROM (SELECT DISTINCT author FROM open WHERE unusable IS NULL) a)
      SELECT tableoid, ctid, author, opportunity, priority
        FROM (SELECT o.id, o.tableoid, o.ctid, o.author, o.opportunity,
                     {9} AS priority
                FROM open o LEFT JOIN priority p USING (author)
               WHERE o.unusable IS NULL
               UNION ALL
              -- those left out, a row a reason: one of them, how many, why
              SELECT NULL, NULL, NULL, min(example), count(*)::float8, unusable::float8
                FROM open WHERE unusable IS NOT NULL GROUP BY unusable) candidates
       ORDER BY id NULLS LAST) TO STDOUT (FORMAT binary))sql";

// 4 where an opportunity is by the account's own handle (own_handle(), when
// known); an equality on each row, as the cooldown's. Its own posts by tweet
// id are found when one is taken (take_candidate_sql): a hash of every tweet
// id the account has cost 10⁵ replies 0.16 s on each run.
std::string own_post_sql(std::string const& handle)
{
    if (handle.empty()) {
        return "NULL::int";
    }
    return fmt::format("CASE WHEN {} = {} THEN 4 END", account_key_sql("r.tweet_author"),
                       quote_literal(account_key(handle)));
}

// Locks one chosen opportunity by its address ($1 the table's oid, $2 the
// ctid) if it is still pending; a row another run or writer holds is
// skipped, never waited for or taken twice. The address holds: the read's
// lock keeps VACUUM FULL and CLUSTER out until the transaction ends, and a
// row updated since has a new one, so it is skipped like a row taken. The
// post replied to is kept to X's longest (25 000 characters): a harvester's
// stray megabytes would go to the writer, and a model bills them.
// Whether the post is the account's own, a tweet id of its items, comes too,
// and whether a reply to it was queued or posted before (one that failed or
// was skipped does not count): a lookup by index each, for each opportunity
// taken.
constexpr char const* take_candidate_sql = R"sql(
SELECT r.tweet_id, r.tweet_author, left(coalesce(r.tweet_content, ''), 25000), r.id::text,
       EXISTS (SELECT 1 FROM public.content_generation_metadata_comprehensive c
                WHERE c.tweet_id = r.tweet_id::text) AS own,
       (SELECT min(c.decision_id::text)
          FROM public.content_generation_metadata_comprehensive c
         WHERE c.decision_type = 'reply' AND c.target_tweet_id = r.tweet_id::text
           AND coalesce(c.status::text, '') NOT IN ('failed', 'skipped')) AS answered_by
  FROM public.reply_opportunities r
 WHERE r.tableoid = $1::oid AND r.ctid = $2::tid AND r.status = 'pending'
   FOR UPDATE OF r SKIP LOCKED)sql";

// Opportunities past plan.reply_max_age_hours are marked expired, and so
// are those of unknown age (no discovered_at: another program's, left before
// adoption): a reply to a tweet of any age is never risked. A dry run counts
// them and says so.
void expire_opportunities(run_context& run, timestamp discovered_before)
{
    constexpr char const* stale = R"sql(status = 'pending'
       AND (discovered_at <= $1::timestamptz OR discovered_at IS NULL))sql";
    constexpr char const* expire = R"sql(
WITH e AS (
    UPDATE public.reply_opportunities SET status = 'expired'
     WHERE {}
    RETURNING discovered_at IS NULL AS unknown)
SELECT count(*), count(*) FILTER (WHERE unknown) FROM e)sql";
    constexpr char const* count = R"sql(
SELECT count(*), count(*) FILTER (WHERE discovered_at IS NULL)
  FROM public.reply_opportunities
 WHERE {})sql";
    auto const r =
        run.db().exec(fmt::format(fmt::runtime(run.dry_run() ? count : expire), stale),
                      discovered_before);
    run.summary()["expired"] = r.i64(0, 0);
    auto const unknown = r.i64(0, 1);
    if (unknown > 0) {
        run.summary()["expired_age_unknown"] = unknown;
        log::warn("{} no discovered_at, so no age: {}, never replied to (left by "
                  "another program before xloop-migrate, or a harvester that writes "
                  "discovered_at as NULL)",
                  counted(unknown, "pending reply opportunity has",
                          "pending reply opportunities have"),
                  run.dry_run() ? "would be expired" : "expired");
    }
}

// Where a candidate's row is: its block and line in the heap (the ctid), and
// which table holds it (an index into open_candidates::tables: one, unless
// reply_opportunities is partitioned). 8 bytes a candidate, whatever the key.
struct row_address {
    std::uint32_t block = 0;
    std::uint16_t line = 0;
    std::uint16_t table = 0;
};

// The open candidates, streamed (binary COPY) into compact rows: addresses,
// authors and scores only; a chosen opportunity's key, tweet and text are
// read when it is taken.
struct open_candidates {
    std::vector<std::uint32_t> tables; // oids
    // In a deque: grown in blocks, never copied to a buffer twice the size.
    std::deque<row_address> addresses;
    std::vector<reply_candidate> candidates;
    // fresh opportunities left out, by reason (1 tweet_author, 2 tweet_id):
    // how many, and one of them
    std::map<int, std::pair<std::int64_t, std::string>> unusable;
    // authors whose priority_score is no number in [0, 1] (ranked with 0.5,
    // or the nearest bound), and one of them with its value
    std::unordered_set<std::uint64_t> odd_priority_authors;
    std::string odd_priority_example;

    // $1 and $2 of take_candidate_sql.
    std::pair<std::string, std::string> address(std::size_t i) const
    {
        auto const& a = addresses[i];
        return {std::to_string(tables[a.table]), fmt::format("({},{})", a.block, a.line)};
    }

    void add_address(binary_copy_reader const& r)
    {
        auto const oid = r.text(0);
        auto const tid = r.text(1);
        if (oid.size() != 4 || tid.size() != 6) {
            throw data_error{"malformed binary COPY data from the server (an oid or a "
                             "ctid of an unexpected size)"};
        }
        auto const byte = [](std::string_view s, std::size_t i) {
            return static_cast<std::uint32_t>(static_cast<unsigned char>(s[i]));
        };
        std::uint32_t const table_oid =
            byte(oid, 0) << 24 | byte(oid, 1) << 16 | byte(oid, 2) << 8 | byte(oid, 3);
        row_address a;
        a.block =
            byte(tid, 0) << 24 | byte(tid, 1) << 16 | byte(tid, 2) << 8 | byte(tid, 3);
        a.line = static_cast<std::uint16_t>(byte(tid, 4) << 8 | byte(tid, 5));
        auto const known = std::find(tables.begin(), tables.end(), table_oid);
        a.table = static_cast<std::uint16_t>(known - tables.begin());
        if (known == tables.end()) {
            if (tables.size() > std::numeric_limits<std::uint16_t>::max()) {
                throw data_error{
                    "reply_opportunities: the open opportunities lie in more "
                    "than 65536 partitions"};
            }
            tables.push_back(table_oid);
        }
        addresses.push_back(a);
    }
};

open_candidates read_candidates(run_context& run, timestamp discovered_after,
                                timestamp replied_before)
{
    open_candidates out;
    // Hash joins only, for this read: on a queue filled since the last
    // ANALYZE the planner sees one candidate and nests loops over the
    // candidates and their authors (10⁵ × 10⁴: a minute). Then as before:
    // the insert finds its few opportunities by index (by hash, 0.4 s at
    // 10⁶).
    // Until migrate has built 0021's index of the account key, an author is
    // looked up as before, by the unique lower(username): a lookup by the
    // key without its index would scan every account for each author.
    auto const before = run.db().exec(R"sql(
SELECT current_setting('enable_nestloop'), set_config('enable_nestloop', 'off', true),
       to_regclass('public.discovered_accounts_handle_key_idx') IS NOT NULL)sql");
    auto const account_is_author =
        before.boolean(0, 2)
            ? account_key_sql("d.username") + " = a.author"
            : std::string{"lower(d.username) IN (a.author, '@' || a.author)"};
    binary_copy_reader reader;
    auto const row = [&](binary_copy_reader const& r) {
        if (r.size() != 5) {
            return;
        }
        if (r.is_null(0) || r.is_null(1)) { // a row of those left out
            if (!r.is_null(2) && !r.is_null(3) && !r.is_null(4)) {
                out.unusable[static_cast<int>(r.float8(4))] = {
                    static_cast<std::int64_t>(r.float8(3)), std::string{r.text(2)}};
            }
            return;
        }
        out.add_address(r);
        out.candidates.push_back({r.float8(3), r.float8(4), author_key(r.text(2))});
        if (auto const& c = out.candidates.back();
            !(c.priority >= 0 && c.priority <= 1) &&
            out.odd_priority_authors.insert(c.author).second &&
            out.odd_priority_example.empty()) {
            out.odd_priority_example = fmt::format(
                "@{}: {}", r.text(2),
                std::isnan(c.priority) ? "NaN" : fmt::format("{}", c.priority));
        }
        if ((out.candidates.size() & 0xffff) == 0) {
            run.check_interrupted();
        }
    };
    run.db().copy_out(
        fmt::format(
            open_candidates_sql, quote_literal(format_timestamp(run.now())),
            quote_literal(format_timestamp(discovered_after)),
            quote_literal(format_timestamp(replied_before)), unusable_opportunity_sql(),
            opportunity_score_sql(), opportunity_score_example_sql,
            account_key_sql("c.target_username"), account_key_sql("r.tweet_author"),
            own_post_sql(own_handle(run.db(), run.cfg())),
            float8_or_infinite_sql("coalesce(p.priority, 0.5)"), account_is_author),
        [&](std::string_view message) { reader.feed(message, row); }, true);
    // (test_plan's SIGTERM test knows the ranking has begun by this statement)
    run.db().exec("SELECT set_config('enable_nestloop', $1, true)", before.str(0, 0));
    return out;
}

// The queue row of a reply to a taken opportunity (tweet id, author, text).
nlohmann::json reply_row(run_context& run, open_candidates const& open,
                         ranked_reply const& cand, double propensity, double baseline_p,
                         db_result const& taken, std::vector<std::string> const& parts,
                         std::string const& hash)
{
    auto const& c = open.candidates[cand.index];
    nlohmann::json features = {{"policy", "thompson_account"},
                               {"opportunity_id", row_id_json(taken.str(0, 3))},
                               {"opportunity_score", c.opportunity_score},
                               {"priority_score", c.priority},
                               {"drawn_priority", cand.drawn},
                               {"rank_score", cand.score},
                               {"propensity", propensity},
                               // whether opportunity score alone (the
                               // original's way) takes it: validate's baseline
                               {"baseline_p", baseline_p},
                               {"candidates", open.candidates.size()},
                               {"seed", std::to_string(run.seed())}};
    auto row = item_row("reply", parts, hash, run.now(), features);
    row["content_slot"] = "reply";
    row["structure_type"] = "reply";
    row["target_tweet_id"] = taken.str(0, 0);
    row["xloop:opportunity"] = {{"id", taken.str(0, 3)}};
    row["target_username"] = std::string{ltrim_at(taken.str(0, 1))};
    return row;
}

// The reply's text for the opportunity `taken` (tweet id, author, text, id), or
// none when the writer gives no usable one: one opportunity without a text
// must not stop the others.
std::optional<std::vector<std::string>> reply_text(run_context& run, writer& w,
                                                   db_result const& taken,
                                                   known_texts& known, std::string& hash,
                                                   rng& r)
{
    writer_request q;
    q.decision_type = "reply";
    q.content_slot = "reply";
    q.topic = "this";
    q.reply_to_author = std::string{ltrim_at(taken.str(0, 1))}; // '@dave' is dave
    // a SQL_ASCII database may hold another program's LATIN1 bytes: the
    // writer is given characters, and a text quoting them stays UTF-8
    q.reply_to_text = valid_utf8(taken.str(0, 2));
    try {
        return write_text(run, w, q, known, hash, r);
    } catch (data_error const& e) {
        log::warn("skipping the reply to @{} (tweet {}): {}", q.reply_to_author,
                  taken.str(0, 0), e.what());
        return std::nullopt;
    }
}

// The opportunities passed over as the account's own posts (by handle in
// the read, by tweet id when taken) or as posts replied to before.
struct passed_over {
    std::int64_t own_posts = 0;
    std::int64_t replied_before = 0;
};

// Up to `wanted` replies in the ranking's order, one per author: each taken
// only if still pending (a row another writer holds is skipped) and only
// with a text (reply_text); the posts passed over are added to `passed`.
// Returns their rows for insert_replies.
nlohmann::json draft_replies(run_context& run, open_candidates const& open, int wanted,
                             writer& w, rng& r, passed_over& passed)
{
    auto const& candidates = open.candidates;
    // Propensities from their own stream, so they change none of the draws.
    rng propensity_rng{run.seed() ^ 0x7265706c79ULL};
    auto const propensity = reply_selection_probabilities(
        candidates, wanted, 1000, propensity_rng, [&] { run.check_interrupted(); });
    auto const baseline = top_by_opportunity(candidates, wanted);
    nlohmann::json rows = nlohmann::json::array();
    std::set<std::uint64_t> authors;
    known_texts known{run};
    reply_ranking ranking{candidates, r};
    while (static_cast<int>(rows.size()) < wanted) {
        auto const next = ranking.next();
        if (!next) {
            break;
        }
        auto const& cand = *next;
        auto const author = candidates[cand.index].author;
        if (authors.count(author)) {
            continue; // one reply per author per run
        }
        auto const [table, ctid] = open.address(cand.index);
        auto const taken = run.db().exec(take_candidate_sql, table, ctid);
        if (taken.rows() == 0) {
            continue;
        }
        if (taken.boolean(0, 4)) {
            log::info("tweet {} (by @{}) is the account's own post: not replied to",
                      taken.str(0, 0), ltrim_at(taken.str(0, 1)));
            ++passed.own_posts;
            continue;
        }
        if (!taken.is_null(0, 5)) {
            log::info("tweet {} (by @{}) was replied to before (item {}): not again",
                      taken.str(0, 0), ltrim_at(taken.str(0, 1)), taken.str(0, 5));
            ++passed.replied_before;
            continue;
        }
        std::string hash;
        auto const parts = reply_text(run, w, taken, known, hash, r);
        if (!parts) {
            continue;
        }
        authors.insert(author);
        bool const in_baseline =
            std::find(baseline.begin(), baseline.end(), cand.index) != baseline.end();
        rows.push_back(reply_row(run, open, cand, propensity[cand.index],
                                 in_baseline ? 1.0 : 0.0, taken, *parts, hash));
    }
    return rows;
}

// Nothing fresh to choose from: said as a warning (cron mails it) when no
// opportunity came in the freshness window at all, since replies then stop
// until the harvester that fills reply_opportunities (not xloop) runs again.
// Pending opportunities dated later than now, past the clocks' allowance (a
// harvester writing its local time as UTC): plan takes each only once its
// time has come, then as fresh.
void warn_dated_ahead(run_context& run)
{
    auto const r = run.db().exec(dated_ahead_sql("$1", "$2"), run.now(),
                                 run.cfg().metrics.max_clock_skew_minutes * 60);
    if (auto const n = r.i64(0, 0); n > 0) {
        run.summary()["dated_in_future"] = n;
        log::warn("{} a discovered_at later than now (up to {} ahead): each is taken "
                  "only once that time has come, and then as fresh; does the harvester "
                  "that fills reply_opportunities write local time as UTC?",
                  counted(n, "pending reply opportunity has",
                          "pending reply opportunities have"),
                  hours_text(r.f64(0, 1)));
    }
}

// Whether it warned.
bool warn_no_fresh_opportunity(run_context& run, timestamp fresh_after)
{
    auto const newest = run.db().exec(R"sql(
SELECT max(discovered_at) FILTER (WHERE discovered_at <= $1::timestamptz), count(*)
  FROM public.reply_opportunities)sql",
                                      run.now());
    if (auto const rows = newest.i64(0, 1); rows == 0) {
        log::warn("reply_opportunities holds no opportunity: nothing to reply to (it is "
                  "filled by the harvester that finds tweets to reply to, which xloop "
                  "does not run)");
        return true;
    } else if (newest.is_null(0, 0)) {
        log::warn("reply_opportunities holds {}, none with a discovered_at up to now: "
                  "nothing to reply to; the harvester that fills it should leave "
                  "discovered_at to its default (now()) or write when it found each",
                  counted(rows, "opportunity", "opportunities"));
        return true;
    }
    auto const at = parse_timestamp(newest.get(0, 0));
    if (!at || *at > fresh_after) {
        return false;
    }
    log::warn(
        "no reply opportunity came in the last {} h (plan.reply_max_age_hours), the "
        "newest at {}: is the harvester that fills reply_opportunities running?",
        run.cfg().plan.reply_max_age_hours, format_timestamp(*at));
    return true;
}

// The fresh opportunities left out, said by reason. Examples quoted and
// escaped: they may be blanks or control characters.
void warn_unusable(run_context& run, open_candidates const& open)
{
    struct reason {
        char const* key;
        char const* what;
    };
    std::map<int, reason> const reasons{
        {1, {"unusable_authors", "a tweet_author that is no X handle"}},
        {2, {"unusable_tweet_ids", "a tweet_id that is no X post id of 1 to 19 digits"}},
        {3,
         {"unusable_scores", "an opportunity_score that is no number plan can rank "
                             "(NaN, infinite, or beyond ±1e300)"}}};
    if (auto const own = open.unusable.find(4); own != open.unusable.end()) {
        log::info("{} the account's own (e.g. {}): left out",
                  counted(own->second.first, "fresh reply opportunity is",
                          "fresh reply opportunities are"),
                  own->second.second); // a handle and digits: no escapes
    }
    for (auto const& [code, found] : open.unusable) {
        auto const it = reasons.find(code);
        if (it == reasons.end()) {
            continue;
        }
        log::warn("{} {} (e.g. {:?}): left out; the harvester that fills "
                  "reply_opportunities wrote {}",
                  counted(found.first, "fresh reply opportunity has",
                          "fresh reply opportunities have"),
                  it->second.what, example_text(found.second, 40),
                  found.first == 1 ? "it" : "them");
        run.summary()[it->second.key] = found.first;
    }
    if (auto const n = open.odd_priority_authors.size(); n > 0) {
        log::warn(
            "{} a priority_score that is no number in [0, 1] (e.g. {}): ranked with "
            "0.5 where it is no number, else with the nearest bound, until "
            "xloop-learn-replies writes {}",
            counted(static_cast<long long>(n), "author of a fresh opportunity has",
                    "authors of fresh opportunities have"),
            example_text(open.odd_priority_example, 60), n == 1 ? "it" : "them");
        run.summary()["unusable_priorities"] = n;
    }
}

// Why no opportunity read was drafted: the rules it met, with the counts of
// those only some met.
void say_none_fits(plan_config const& cfg, passed_over const& passed)
{
    auto const was = [](std::int64_t n) { return counted(n, "was", "were"); };
    log::info("no pending reply opportunity fits (fresh, author not replied to in the "
              "last {} h{}{})",
              cfg.reply_author_cooldown_hours,
              passed.own_posts > 0
                  ? ", not the account's own post: " + was(passed.own_posts)
                  : std::string{},
              passed.replied_before > 0
                  ? ", post not replied to before: " + was(passed.replied_before)
                  : std::string{});
}

// The drafted replies into the queue, or said (dry run).
void queue_replies(run_context& run, nlohmann::json& rows)
{
    prepare_items(run.db(), rows);
    if (run.dry_run()) {
        for (auto const& row : rows) {
            log::info("would reply to @{} (tweet {}): {}",
                      text_in(row, "target_username"), text_in(row, "target_tweet_id"),
                      excerpt(text_in(row, "content"), 80));
        }
        log::info("dry run: {} planned, none written",
                  counted(static_cast<long long>(rows.size()), "reply", "replies"));
        return;
    }
    auto const inserted = run.db().exec(insert_replies, json_text(rows), run.now());
    run.rows_out += inserted.rows();
    log::info("queued {}", counted(inserted.rows(), "reply", "replies"));
}

} // namespace

void plan_replies(run_context& run, int wanted, writer& w, rng& r)
{
    auto const& cfg = run.cfg().plan;
    auto const now = run.now();
    auto const max_age = fractional_hours(cfg.reply_max_age_hours);
    expire_opportunities(run, now - max_age);
    auto const queue = read_queue(run.db(), now, queue_of::replies);
    run.summary()["replies_queued_before"] = queue.queued;
    if (!report_queue(queue, queue_of::replies, wanted, run.cfg(), now)) {
        run.summary()["replies"] = nlohmann::json::array();
        return;
    }
    if (queue.queued > 0) {
        log::info("the reply queue holds {} not yet posted (--replies {}): up to {} more",
                  counted(queue.queued, "reply", "replies"), wanted,
                  wanted - queue.queued);
    }
    warn_dated_ahead(run);
    auto const open = read_candidates(
        run, now - max_age, now - fractional_hours(cfg.reply_author_cooldown_hours));
    warn_unusable(run, open);
    passed_over passed;
    if (auto const own = open.unusable.find(4); own != open.unusable.end()) {
        passed.own_posts = own->second.first; // by its handle, in the read
    }
    auto rows =
        draft_replies(run, open, static_cast<int>(wanted - queue.queued), w, r, passed);
    if (passed.own_posts > 0) {
        run.summary()["own_posts"] = passed.own_posts;
    }
    if (passed.replied_before > 0) {
        run.summary()["replied_before"] = passed.replied_before;
    }
    run.summary()["reply_candidates"] = open.candidates.size();
    run.summary()["replies"] = rows;
    if (rows.empty()) {
        if (!open.candidates.empty() || !warn_no_fresh_opportunity(run, now - max_age)) {
            say_none_fits(cfg, passed);
        }
        return;
    }
    queue_replies(run, rows);
}

} // namespace xloop
