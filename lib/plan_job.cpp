#include "plan_job.hpp"

#include "app.hpp"

#include "calendar.hpp"
#include "canonical.hpp"
#include "copy_row.hpp"
#include "json_text.hpp"
#include "log.hpp"
#include "map_shape.hpp"
#include "reply_opportunity.hpp"
#include "row_id.hpp"
#include "sampling.hpp"
#include "sha256.hpp"
#include "stored_values.hpp"
#include "text.hpp"
#include "tweet_length.hpp"
#include "writers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
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

// The order the attributes are drawn in, and stored.
std::vector<std::string> const draw_order{"content_slot", "generator_name", "topic",
                                          "tone",         "hook_type",      "cta_type",
                                          "decision_type"};

struct draw {
    std::string value;
    double propensity = 0;
    std::vector<std::string> candidates;
};

struct active_map {
    std::optional<std::string> id; // as text: bigint, uuid or text
    nlohmann::json version;        // the original bot's column is text ('1.176…')
    nlohmann::json posteriors;
};

// The active map, or none when plan cannot use it (a map written by another
// program: no posteriors, or not in build-weights' shape): then plan draws
// uniformly and says why, rather than failing the run.
active_map read_active_map(db_connection& db)
{
    active_map map;
    auto const m = db.exec(R"sql(
        SELECT id::text, version::text, posteriors::text
          FROM public.learning_model_weights WHERE is_active LIMIT 1
        )sql");
    if (m.rows() == 0) {
        return map;
    }
    auto posteriors = stored_json(m.opt_str(0, 2).value_or("{}"));
    auto const why = unusable_map_reason(posteriors);
    if (why) {
        log::warn("the active weight map (id {}) cannot be used: {}; drawing uniformly "
                  "until xloop-build-weights writes one",
                  m.str(0, 0), *why);
        return map;
    }
    map.id = m.str(0, 0);
    if (auto const v = m.opt_str(0, 1)) {
        char* end = nullptr;
        long long const n = std::strtoll(v->c_str(), &end, 10);
        map.version = end && *end == '\0' ? nlohmann::json(n) : nlohmann::json(*v);
    }
    map.posteriors = std::move(posteriors);
    return map;
}

} // namespace

draw_rule draw_rule_of(config const& cfg)
{
    return {cfg.weights.epsilon, cfg.plan.epsilon, cfg.plan.posterior_scale};
}

std::optional<dimension_arms> arms_of(nlohmann::json const& post,
                                      std::string const& dimension,
                                      std::vector<std::string> const& candidates,
                                      draw_rule const& rule)
{
    bool const learned = post.is_object() && post.contains(dimension) &&
                         post.contains("_prior") && post["_prior"].contains(dimension);
    if (!learned || candidates.size() <= 1) {
        return std::nullopt;
    }
    auto const& prior = post["_prior"][dimension];
    auto const& values = post[dimension];
    dimension_arms out;
    // build-weights decays ε with the dimension's evidence; older maps have
    // none. plan.epsilon, when set, is the operator's word over both.
    out.epsilon = rule.override_epsilon ? *rule.override_epsilon
                                        : prior_epsilon(prior).value_or(rule.epsilon);
    for (auto const& v : candidates) {
        bool const seen = values.is_object() && values.contains(v);
        auto const& arm = seen ? values[v] : prior;
        auto const mean = arm_mean(arm);
        // A value never posted is drawn with one post's spread (σ), not the
        // shrunk prior's σ/√κ: optimism that gets every value tried early,
        // where a settled map would otherwise never try it.
        auto const sigma = seen ? std::nullopt : map_number(prior, "sigma");
        auto const sd = map_number(arm, "sd");
        if (!mean || !(sigma || sd)) {
            return std::nullopt; // not a map plan can read here: uniform
        }
        double const spread = sigma ? *sigma : *sd * rule.posterior_scale;
        out.arms.push_back({*mean, std::max(spread, 1e-6)});
    }
    return out;
}

namespace {

// Draws one value: Thompson sampling on the map's posteriors (values without
// data use the dimension's prior) with the ε floor, or uniform without a map.
draw draw_value(std::string const& dimension, std::vector<std::string> candidates,
                active_map const& map, draw_rule const& rule, rng& r)
{
    draw d;
    d.candidates = std::move(candidates);
    std::size_t const k = d.candidates.size();
    auto const arms =
        map.id ? arms_of(map.posteriors, dimension, d.candidates, rule) : std::nullopt;
    if (!arms) {
        std::size_t const i = r.below(k);
        d.value = d.candidates[i];
        d.propensity = 1.0 / static_cast<double>(k);
        return d;
    }
    auto const i = thompson_draw(arms->arms, arms->epsilon, r);
    d.value = d.candidates[i];
    d.propensity = selection_probabilities(arms->arms, arms->epsilon)[i];
    return d;
}

std::string content_hash(std::vector<std::string> const& parts)
{
    // Normalised: case and runs of whitespace do not make a text new.
    std::string norm;
    for (auto const& p : parts) {
        bool space = true;
        for (char const c : p) {
            if (std::isspace(static_cast<unsigned char>(c))) {
                if (!space) {
                    norm += ' ';
                }
                space = true;
            } else {
                norm += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                space = false;
            }
        }
        norm += '\n';
    }
    return sha256_hex(norm);
}

// The texts another program (the original bot before xloop took over) wrote
// in the 30 days before $1: their content_hash is the other program's own (or
// none), which the duplicate check's lookup by hash never matched, and X
// refuses a duplicate post. Streamed; the other's rows of the last month only.
constexpr char const* others_texts_sql = R"sql(
COPY (SELECT content::text, to_jsonb(thread_parts)::text
        FROM public.content_generation_metadata_comprehensive
       WHERE created_at > {0}::timestamptz - interval '30 days'
         AND created_at <= {0}::timestamptz
         AND generation_source::text IS DISTINCT FROM 'xloop'
         AND content IS NOT NULL) TO STDOUT (FORMAT binary))sql";

// The texts a run may not write again: its own, and other programs' of the
// last 30 days as xloop hashes them (64 bits of each hash, sorted: 8 bytes a
// text however many the other wrote). xloop's own stored ones are looked up
// by content_hash as each text is written.
class known_texts {
public:
    explicit known_texts(run_context& run)
    {
        binary_copy_reader reader;
        auto const row = [&](binary_copy_reader const& r) {
            std::vector<std::string> parts;
            if (!r.is_null(1)) {
                auto const j = nlohmann::json::parse(r.text(1), nullptr, false);
                if (j.is_array() && !j.empty() &&
                    std::all_of(j.begin(), j.end(),
                                [](auto const& e) { return e.is_string(); })) {
                    parts = j.get<std::vector<std::string>>();
                }
            }
            if (parts.empty()) {
                parts.emplace_back(r.text(0));
            }
            m_others.push_back(key(content_hash(parts)));
            if ((m_others.size() & 0xfff) == 0) {
                run.check_interrupted();
            }
        };
        run.db().copy_out(
            fmt::format(others_texts_sql, quote_literal(format_timestamp(run.now()))),
            [&](std::string_view message) { reader.feed(message, row); }, true);
        std::sort(m_others.begin(), m_others.end());
    }

    bool contains(std::string const& hash) const
    {
        return m_run.count(hash) > 0 ||
               std::binary_search(m_others.begin(), m_others.end(), key(hash));
    }
    void add(std::string const& hash) { m_run.insert(hash); }

private:
    static std::uint64_t key(std::string const& hex_hash)
    {
        return std::stoull(hex_hash.substr(0, 16), nullptr, 16);
    }

    std::set<std::string> m_run;
    std::vector<std::uint64_t> m_others;
};

// No acceptable text for these attributes (bad data, exit 65, when it ends a
// run): distinct from a writer that fails, which no redraw of the attributes
// would mend.
struct no_new_text : data_error {
    using data_error::data_error;
};

// Writes the text, asking again when a part is not UTF-8 text PostgreSQL can
// store (a command's bytes, a model's \u0000), is over 280 characters as X
// counts them (tweet_length), or the text was used in the last 30 days (or
// earlier in this run).
std::vector<std::string> write_text(run_context& run, writer& w, writer_request q,
                                    known_texts& known, std::string& hash, rng& r)
{
    int const tries = run.cfg().plan.writer.max_tries;
    std::string last_problem;
    for (q.attempt = 0; q.attempt < tries; ++q.attempt) {
        q.retry_because = last_problem; // a writer that can shorten or vary its text
        auto parts = w.write(q, r);
        if (std::any_of(parts.begin(), parts.end(),
                        [](auto const& p) { return valid_utf8(p) != p; })) {
            last_problem = "a text that is not UTF-8, or holds a NUL byte";
            continue;
        }
        // Line breaks and tabs are text; any other control character (a
        // terminal's escape sequence, a backspace) would be posted as it is.
        if (auto const odd =
                std::find_if(parts.begin(), parts.end(),
                             [](auto const& p) { return has_stray_controls(p); });
            odd != parts.end()) {
            last_problem = fmt::format("a text holding a control character ({})",
                                       excerpt(escape_controls(*odd), 60));
            continue;
        }
        auto const too_long = std::find_if(parts.begin(), parts.end(), [](auto const& p) {
            return tweet_length(p) > max_tweet_length;
        });
        if (too_long != parts.end()) {
            last_problem =
                fmt::format("a part of {} characters as X counts them (at most 280)",
                            tweet_length(*too_long));
            continue;
        }
        hash = content_hash(parts);
        bool const seen = known.contains(hash) || run.db()
                                                      .exec(R"sql(
                    SELECT EXISTS (
                        SELECT 1 FROM public.content_generation_metadata_comprehensive
                         WHERE content_hash = $1
                           AND created_at > $2::timestamptz - interval '30 days')
                    )sql",
                                                            hash, run.now())
                                                      .boolean(0, 0);
        if (seen) {
            last_problem = "a duplicate of a text of the last 30 days";
            continue;
        }
        known.add(hash);
        return parts;
    }
    throw no_new_text{fmt::format("could not write a new {} about '{}' in {} tries "
                                  "(plan.writer.max_tries); the last "
                                  "try was {}",
                                  q.decision_type, q.topic, tries, last_problem)};
}

nlohmann::json item_row(std::string const& decision_type,
                        std::vector<std::string> const& parts, std::string const& hash,
                        timestamp scheduled, nlohmann::json features)
{
    std::string content;
    for (auto const& p : parts) {
        content += (content.empty() ? "" : "\n\n") + p;
    }
    return {{"decision_type", decision_type},
            {"content", content},
            {"thread_parts",
             decision_type == "thread" ? nlohmann::json(parts) : nlohmann::json()},
            {"content_hash", hash},
            {"scheduled_at", format_timestamp(scheduled)},
            {"features", std::move(features)}};
}

// One statement for all the run's rows, straight into the base table. Each
// row gets a new decision id, and every value the base table's own type
// (jsonb_populate_recordset): an adopted table may hold an enum, a text[] of
// parts, json features or a text decision_id.
constexpr char const* insert_items = R"sql(
INSERT INTO public.content_generation_metadata_comprehensive
    (decision_id, status, generation_source, decision_type, content, thread_parts,
     content_hash, scheduled_at, features, content_slot, generator_name, raw_topic, tone,
     hook_type, cta_type, structure_type, target_tweet_id, target_username, created_at,
     updated_at)
SELECT x.decision_id, x.status, x.generation_source, x.decision_type, x.content, x.thread_parts,
       x.content_hash, x.scheduled_at, x.features, x.content_slot, x.generator_name,
       x.raw_topic, x.tone, x.hook_type, x.cta_type, x.structure_type, x.target_tweet_id,
       x.target_username, $2::timestamptz, $2::timestamptz
  FROM jsonb_populate_recordset(
           NULL::public.content_generation_metadata_comprehensive,
           (SELECT jsonb_agg(e || jsonb_build_object('decision_id', gen_random_uuid()))
              FROM jsonb_array_elements($1::jsonb) e)) AS x
RETURNING decision_id, scheduled_at, content_slot, target_tweet_id)sql";

// Replies: the insert, and each opportunity marked taken by its new decision,
// in one statement (rows carry their opportunity's id as text under a key no
// column is named: "xloop:opportunity": {"id": …}).
// The opportunity's id may be a bigint, a uuid or text (adopted tables):
// jsonb_populate_record gives it the column's own type, so the key's index
// serves. The cast: the base table's decision_id may be text (the original
// bot's), the opportunity's is xloop's uuid.
std::string const insert_replies = std::string{"WITH ins AS ("} + insert_items + R"sql()
UPDATE public.reply_opportunities r
   SET status = 'replied', taken_at = $2::timestamptz, decision_id = ins.decision_id::uuid
  FROM ins, jsonb_to_recordset($1::jsonb) AS x("xloop:opportunity" jsonb,
                                               target_tweet_id text),
       jsonb_populate_record(NULL::public.reply_opportunities, x."xloop:opportunity") AS o
 WHERE r.id = o.id AND ins.target_tweet_id = x.target_tweet_id
RETURNING r.id)sql";

// The base table's varchar(n) and char(n) columns (an adopted table's; xloop's
// own are text) narrower than a value of the run's rows: the insert would
// fail on the first with "value too long" and no column named. Each column
// with its longest value.
constexpr char const* narrow_columns_sql = R"sql(
SELECT a.attname, format_type(a.atttypid, a.atttypmod), max(char_length(e ->> a.attname)),
       (array_agg(e ->> a.attname ORDER BY char_length(e ->> a.attname) DESC))[1]
  FROM pg_attribute a, jsonb_array_elements($1::jsonb) e
 WHERE a.attrelid = 'public.content_generation_metadata_comprehensive'::regclass
   AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypmod > 4
   AND a.atttypid IN ('varchar'::regtype, 'bpchar'::regtype)
   AND char_length(e ->> a.attname) > a.atttypmod - 4
 GROUP BY a.attname, a.atttypid, a.atttypmod
 ORDER BY a.attname)sql";

// A queue row's text value, or "" (for the dry run's lines).
std::string text_in(nlohmann::json const& row, char const* key)
{
    auto const v = row.find(key);
    return v != row.end() && v->is_string() ? v->get<std::string>() : std::string{};
}

// Each queued, by xloop: values insert_items writes as they are.
void mark_queued(nlohmann::json& row)
{
    row["status"] = "queued";
    row["generation_source"] = "xloop";
}

// The run's rows as insert_items takes them, refused before anything is
// written if a value does not fit its column.
void prepare_items(db_connection& db, nlohmann::json& rows)
{
    for (auto& row : rows) {
        mark_queued(row);
    }
    if (auto const narrow = narrow_columns(db, rows)) {
        throw data_error{
            fmt::format("{}; nothing was written. {}", narrow->columns, narrow->widen)};
    }
}

// The latest item (queued or posted): the new ones follow it by the gap (and,
// with plan.no_repeat_slot, not its content_slot: defect 14, the right end of
// the list), and how many items its local day already has.
constexpr char const* latest_item_sql = R"sql(
WITH last AS (
    SELECT coalesce(scheduled_at, posted_at, created_at) AS at, content_slot
      FROM public.content_generation_metadata_comprehensive
     WHERE status IN ('queued', 'posted') AND decision_type IS DISTINCT FROM 'reply'
       -- never due (infinity, after 2199): no time to follow (read_queue says so)
       AND coalesce(scheduled_at, posted_at, created_at) < $2::timestamptz
     ORDER BY 1 DESC NULLS LAST, id DESC
     LIMIT 1)
SELECT l.at, l.content_slot, to_char((l.at AT TIME ZONE $1)::date, 'YYYY-MM-DD'),
       (SELECT count(*) FROM public.content_generation_metadata_comprehensive c
         WHERE c.status IN ('queued', 'posted')
           AND c.decision_type IS DISTINCT FROM 'reply'
           AND coalesce(c.scheduled_at, c.posted_at, c.created_at)
               >= ((l.at AT TIME ZONE $1)::date::timestamp AT TIME ZONE $1)
           AND coalesce(c.scheduled_at, c.posted_at, c.created_at)
               < (((l.at AT TIME ZONE $1)::date + 1)::timestamp AT TIME ZONE $1))
  FROM last l)sql";

// Each daily time on each of the next $4 local days: instant, hour, local day.
constexpr char const* occurrences_sql = R"sql(
SELECT (d::date + t::time) AT TIME ZONE $2, to_char(t::time, 'HH24'),
       to_char(d::date, 'YYYY-MM-DD')
  FROM generate_series(($1::timestamptz AT TIME ZONE $2)::date,
                       ($1::timestamptz AT TIME ZONE $2)::date + $4::int,
                       interval '1 day') d,
       unnest($3::text[]) t
 WHERE ((d::date + t::time) AT TIME ZONE $2) > $1::timestamptz
 ORDER BY 1, 2)sql";

namespace {

using catalogue = std::map<std::string, std::vector<std::string>>;

// The queued posts: all of them, and those already past their time. The
// ones past their time count too: while the poster is not publishing, the
// queue must not grow by the posting rate, to be posted all at once when it
// comes back. Those at infinity or after 2199 (another program's "hold")
// are never due: counted apart, or they would fill the queue for good.
struct queue_state {
    std::int64_t queued = 0;
    std::int64_t due = 0;
    std::string oldest_due; // as stored: -infinity and 1850 are due too
    std::int64_t never_due = 0;
    std::string never_due_example;
};

queue_state read_queue(db_connection& db, timestamp now)
{
    auto const r = db.exec(R"sql(
SELECT count(*) FILTER (WHERE scheduled_at < $2::timestamptz),
       count(*) FILTER (WHERE scheduled_at <= $1::timestamptz),
       min(scheduled_at) FILTER (WHERE scheduled_at <= $1::timestamptz),
       count(*) FILTER (WHERE scheduled_at >= $2::timestamptz),
       max(scheduled_at) FILTER (WHERE scheduled_at >= $2::timestamptz)
  FROM public.content_generation_metadata_comprehensive
 WHERE status = 'queued' AND decision_type IS DISTINCT FROM 'reply'
   AND scheduled_at IS NOT NULL)sql",
                           now, readable_times_end);
    return {r.i64(0, 0), r.i64(0, 1), stored_timestamp_text(r.opt_str(0, 2).value_or("")),
            r.i64(0, 3), stored_timestamp_text(r.opt_str(0, 4).value_or(""))};
}

// Says what stands in the queue's way: items that are never due, and a queue
// already full (warned once its oldest is late: the poster is not running).
// Whether there is room for new items.
bool report_queue(queue_state const& queue, config const& cfg, timestamp now)
{
    if (queue.never_due > 0) {
        log::warn("{} scheduled at a time that never comes (e.g. {}): not counted in the "
                  "queue, no poster will take {}. Give {} a time, or set {} status to "
                  "'skipped'",
                  counted(queue.never_due, "queued item is", "queued items are"),
                  queue.never_due_example, queue.never_due == 1 ? "it" : "them",
                  queue.never_due == 1 ? "it" : "them",
                  queue.never_due == 1 ? "its" : "their");
    }
    if (queue.queued < cfg.plan.queue_ahead) {
        return true;
    }
    // -infinity or 1850 (another program's) is due, long ago
    auto const oldest = parse_timestamp(queue.oldest_due);
    auto const overdue =
        queue.due == 0 ? 0.0
        : oldest ? std::chrono::duration<double, std::ratio<3600>>(now - *oldest).count()
                 : std::numeric_limits<double>::infinity();
    if (overdue > cfg.validate.max_queue_delay_hours) {
        // Nothing is planned until the poster runs again: said where cron
        // mails it (-q keeps warnings), not only by validate.
        log::warn("the queue holds {}, {} of them due and not yet posted, the "
                  "oldest scheduled at {}{}: nothing is added until the "
                  "poster takes them. Is it running? Items no poster will take: set "
                  "their status to 'skipped'",
                  counted(queue.queued, "item", "items"), queue.due, queue.oldest_due,
                  std::isfinite(overdue) ? fmt::format(" ({} ago)", hours_text(overdue))
                                         : std::string{});
    } else if (queue.due > 0) {
        log::info("the queue holds {}, {} of them due and not yet posted "
                  "(plan.queue_ahead = {}): nothing to add until the poster takes "
                  "{}",
                  counted(queue.queued, "item", "items"), queue.due, cfg.plan.queue_ahead,
                  queue.due == 1 ? "it" : "them");
    } else {
        log::info("the queue holds {} (plan.queue_ahead = {}): nothing to add",
                  counted(queue.queued, "future item", "future items"),
                  cfg.plan.queue_ahead);
    }
    return false;
}

// Where the calendar stands: the latest item's time, slot and the posts on
// its local day.
struct calendar_state {
    std::optional<timestamp> last_at;
    std::string last_slot;
    std::map<std::string, int> posts_on_day;
};

calendar_state read_calendar(db_connection& db, plan_config const& cfg)
{
    calendar_state c;
    auto const last = db.exec(latest_item_sql, cfg.timezone, readable_times_end);
    if (last.rows() == 1) {
        if (!last.is_null(0, 0)) {
            c.last_at = parse_timestamp(last.get(0, 0));
            c.posts_on_day[last.str(0, 2)] = static_cast<int>(last.i64(0, 3));
        }
        c.last_slot = canonical_name(last.opt_str(0, 1).value_or(""));
    }
    return c;
}

// Where the calendar's times are read from: new items follow the latest one,
// however far ahead an operator put it. Further ahead than a full queue
// reaches at the configured rate (plan.queue_ahead items, a day more, at
// least 48 h) it is said: the days before it get no post.
timestamp calendar_start(calendar_state const& calendar, plan_config const& cfg,
                         timestamp now)
{
    if (!calendar.last_at || *calendar.last_at <= now) {
        return now;
    }
    auto const queue_days =
        static_cast<double>(cfg.queue_ahead) / std::max(cfg.posts_a_day(), 1) + 1;
    auto const reach = std::max(fractional_days(queue_days), fractional_hours(48));
    if (*calendar.last_at > now + reach) {
        log::warn(
            "the latest queued or posted item is at {}, {:.1f} days ahead: new "
            "items follow it",
            format_timestamp(*calendar.last_at),
            std::chrono::duration<double, std::ratio<86400>>(*calendar.last_at - now)
                .count());
    }
    return *calendar.last_at;
}

// Occurrences of the daily times over the weeks after `from`, as instants:
// the server converts local times across DST changes.
std::vector<calendar_slot> read_occurrences(db_connection& db, plan_config const& cfg,
                                            timestamp from, std::int64_t need)
{
    auto const slots = db.exec(occurrences_sql, from, cfg.timezone, cfg.times,
                               static_cast<int>(need) * 2 + 14);
    std::vector<calendar_slot> out;
    for (int i = 0; i < slots.rows(); ++i) {
        out.push_back(
            {*parse_timestamp(slots.get(i, 0)), slots.str(i, 1), slots.str(i, 2)});
    }
    return out;
}

// Which of the day's free times gets the post: the earliest that leaves room
// for the day's other posts (time_choice: next), or drawn by post_hour among
// the day's best times; records the draw in `draws`.
std::size_t pick_time(post_day const& day, plan_config const& cfg, active_map const& map,
                      draw_rule const& rule, nlohmann::json& draws, rng& r)
{
    auto const gap = std::chrono::minutes{cfg.min_gap_minutes};
    std::size_t index = 0;
    double propensity = 1;
    if (cfg.time_choice == "next" || day.slots.size() == 1) {
        std::vector<double> earliest_first(day.slots.size());
        for (std::size_t j = 0; j < earliest_first.size(); ++j) {
            earliest_first[j] = -static_cast<double>(j);
        }
        auto const set = best_times(day.slots, day.room, gap, earliest_first);
        index = set.empty() ? 0 : set.front();
    } else {
        std::vector<std::string> hours;
        for (auto const& s : day.slots) {
            hours.push_back(s.hour);
        }
        auto const arms =
            map.id ? arms_of(map.posteriors, "post_hour", hours, rule) : std::nullopt;
        auto const t = draw_post_time(day, gap, arms ? &arms->arms : nullptr,
                                      arms ? arms->epsilon : 1.0, r);
        index = t.index;
        propensity = t.propensity;
    }
    draws["post_hour"] = {{"value", day.slots[index].hour}, {"propensity", propensity}};
    return index;
}

// One draw of every attribute of a post, recorded in `draws`.
writer_request draw_attributes(plan_config const& cfg, catalogue const& values,
                               active_map const& map, draw_rule const& rule,
                               std::string const& last_slot, nlohmann::json& draws,
                               rng& r)
{
    std::map<std::string, std::string> chosen;
    for (auto const& dim : draw_order) {
        auto candidates = values.at(dim);
        if (cfg.no_repeat_slot && dim == "content_slot" && candidates.size() > 1) {
            std::erase(candidates, last_slot);
        }
        auto const d = draw_value(dim, candidates, map, rule, r);
        chosen[dim] = d.value;
        draws[dim] = {{"value", d.value},
                      {"propensity", d.propensity},
                      {"candidates", d.candidates.size()}};
    }
    writer_request q;
    q.decision_type = chosen["decision_type"];
    q.content_slot = chosen["content_slot"];
    q.generator_name = chosen["generator_name"];
    q.topic = chosen["topic"];
    q.tone = chosen["tone"];
    q.hook_type = chosen["hook_type"];
    q.cta_type = chosen["cta_type"];
    if (q.decision_type == "thread") {
        auto const lo = cfg.thread_min_parts;
        auto const hi = cfg.thread_max_parts;
        q.parts = lo + static_cast<int>(r.below(static_cast<std::size_t>(hi - lo + 1)));
    }
    return q;
}

struct written_post {
    writer_request q;
    std::vector<std::string> parts;
    std::string hash;
    int redraws = 0;
};

// When no new text can be written for the drawn attributes (a writer with
// little variety, a strong preference), the attributes are drawn again, up to
// plan.writer.max_tries times; features records how many redraws it took.
written_post draw_and_write(run_context& run, catalogue const& values,
                            active_map const& map, draw_rule const& rule,
                            std::string const& last_slot, writer& w, known_texts& known,
                            nlohmann::json& draws, rng& r)
{
    auto const& cfg = run.cfg().plan;
    written_post p;
    for (;; ++p.redraws) {
        p.q = draw_attributes(cfg, values, map, rule, last_slot, draws, r);
        try {
            p.parts = write_text(run, w, p.q, known, p.hash, r);
            return p;
        } catch (no_new_text const& e) {
            if (p.redraws + 1 >= cfg.writer.max_tries) {
                throw data_error{fmt::format("{}; the attributes were drawn {} times",
                                             e.what(), p.redraws + 1)};
            }
            log::debug("drawing the attributes again: {}", e.what());
        }
    }
}

nlohmann::json post_row(run_context& run, active_map const& map, draw_rule const& rule,
                        written_post const& p, timestamp scheduled, nlohmann::json draws)
{
    auto const& cfg = run.cfg().plan;
    nlohmann::json features = {
        {"policy", map.id ? "thompson" : "uniform"},
        {"epsilon", map.id ? rule.override_epsilon.value_or(rule.epsilon) : 1.0},
        {"posterior_scale", map.id ? rule.posterior_scale : 1.0},
        {"map_id", map.id ? row_id_json(*map.id) : nlohmann::json()},
        {"map_version", map.version},
        {"seed", std::to_string(run.seed())},
        {"writer", cfg.writer.kind},
        {"redraws", p.redraws},
        {"draws", std::move(draws)}};
    auto row = item_row(p.q.decision_type, p.parts, p.hash, scheduled, features);
    row["content_slot"] = p.q.content_slot;
    row["generator_name"] = p.q.generator_name;
    row["raw_topic"] = p.q.topic;
    row["tone"] = p.q.tone;
    row["hook_type"] = p.q.hook_type;
    row["cta_type"] = p.q.cta_type;
    row["structure_type"] = p.q.decision_type == "thread" ? "thread" : "single";
    return row;
}

} // namespace

void plan_posts(run_context& run, active_map const& map, writer& w, rng& r)
{
    auto& db = run.db();
    auto const& cfg = run.cfg().plan;
    auto const now = run.now();
    auto const queue = read_queue(db, now);
    auto const need = cfg.queue_ahead - queue.queued;
    run.summary()["queued_before"] = queue.queued;
    run.summary()["queued_due"] = queue.due;
    run.summary()["queued_never_due"] = queue.never_due;
    if (!report_queue(queue, run.cfg(), now)) {
        run.summary()["added"] = 0;
        return;
    }
    auto calendar = read_calendar(db, cfg);
    auto const occurrences =
        read_occurrences(db, cfg, calendar_start(calendar, cfg, now), need);
    auto const values = plan_catalogue(cfg);
    auto const rule = draw_rule_of(run.cfg());
    auto const gap = std::chrono::minutes{cfg.min_gap_minutes};
    nlohmann::json rows = nlohmann::json::array();
    known_texts known{run};
    for (std::int64_t n = 0; n < need; ++n) {
        auto const day =
            next_post_day(occurrences, calendar.last_at, gap, cfg.posts_per_day,
                          cfg.times.size(), calendar.posts_on_day);
        if (day.slots.empty()) {
            throw config_error{"plan.times and plan.min_gap_minutes leave no slot in the "
                               "next two weeks"};
        }
        nlohmann::json draws = nlohmann::json::object();
        auto const& slot = day.slots[pick_time(day, cfg, map, rule, draws, r)];
        ++calendar.posts_on_day[slot.day];
        auto const post = draw_and_write(run, values, map, rule, calendar.last_slot, w,
                                         known, draws, r);
        rows.push_back(post_row(run, map, rule, post, slot.at, std::move(draws)));
        calendar.last_at = slot.at;
        calendar.last_slot = post.q.content_slot;
    }
    run.summary()["items"] = rows;
    prepare_items(db, rows);
    if (run.dry_run()) {
        for (auto const& row : rows) {
            log::info("would queue for {} ({}): {}", text_in(row, "scheduled_at"),
                      text_in(row, "content_slot"), excerpt(text_in(row, "content"), 80));
        }
        log::info("dry run: {} planned, none written",
                  counted(static_cast<long long>(rows.size()), "item", "items"));
        return;
    }
    auto const inserted = db.exec(insert_items, json_text(rows), now);
    run.rows_out += inserted.rows();
    run.summary()["added"] = inserted.rows();
    for (int i = 0; i < inserted.rows(); ++i) {
        log::info("queued {} for {} ({})", inserted.str(i, 0),
                  stored_timestamp_text(inserted.str(i, 1)), inserted.str(i, 2));
    }
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
// there), looked up as either spelling, by the unique index on lower(username).
// The account's own posts are left out too, by its handle here ({8},
// own_post_sql()) and by tweet id when taken: a harvester that searches the
// account's topics finds them, and a reply to itself is noise to its
// followers and a reply slot lost.
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
           priority AS (
             SELECT a.author,
                    (SELECT max(d.priority_score) FROM public.discovered_accounts d
                      WHERE lower(d.username) IN (a.author, '@' || a.author)) AS priority
               FROM (SELECT DISTINCT author FROM open WHERE unusable IS NULL) a)
      SELECT tableoid, ctid, author, opportunity, priority
        FROM (SELECT o.id, o.tableoid, o.ctid, o.author, o.opportunity,
                     coalesce(p.priority, 0.5)::float8 AS priority
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
// adoption): a reply to a tweet of any age is never risked.
void expire_opportunities(run_context& run, timestamp discovered_before)
{
    auto const r = run.db().exec(R"sql(
WITH e AS (
    UPDATE public.reply_opportunities SET status = 'expired'
     WHERE status = 'pending'
       AND (discovered_at <= $1::timestamptz OR discovered_at IS NULL)
    RETURNING discovered_at IS NULL AS unknown)
SELECT count(*), count(*) FILTER (WHERE unknown) FROM e)sql",
                                 discovered_before);
    run.summary()["expired"] = r.i64(0, 0);
    auto const unknown = r.i64(0, 1);
    if (unknown > 0) {
        run.summary()["expired_age_unknown"] = unknown;
        log::warn("{} no discovered_at, so no age: expired, never replied to (left by "
                  "another program before xloop-migrate, or a harvester that writes "
                  "discovered_at as NULL)",
                  counted(unknown, "pending reply opportunity has",
                          "pending reply opportunities have"));
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
    auto const before = run.db().exec(R"sql(
SELECT current_setting('enable_nestloop'), set_config('enable_nestloop', 'off', true))sql");
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
        fmt::format(open_candidates_sql, quote_literal(format_timestamp(run.now())),
                    quote_literal(format_timestamp(discovered_after)),
                    quote_literal(format_timestamp(replied_before)),
                    unusable_opportunity_sql(), opportunity_score_sql(),
                    opportunity_score_example_sql, account_key_sql("c.target_username"),
                    account_key_sql("r.tweet_author"),
                    own_post_sql(own_handle(run.db(), run.cfg()))),
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

void plan_replies(run_context& run, int wanted, writer& w, rng& r)
{
    auto const& cfg = run.cfg().plan;
    auto const now = run.now();
    auto const max_age = fractional_hours(cfg.reply_max_age_hours);
    if (!run.dry_run()) {
        expire_opportunities(run, now - max_age);
    }
    auto const open = read_candidates(
        run, now - max_age, now - fractional_hours(cfg.reply_author_cooldown_hours));
    warn_unusable(run, open);
    passed_over passed;
    if (auto const own = open.unusable.find(4); own != open.unusable.end()) {
        passed.own_posts = own->second.first; // by its handle, in the read
    }
    auto rows = draft_replies(run, open, wanted, w, r, passed);
    if (passed.own_posts > 0) {
        run.summary()["own_posts"] = passed.own_posts;
    }
    if (passed.replied_before > 0) {
        run.summary()["replied_before"] = passed.replied_before;
    }
    run.summary()["reply_candidates"] = open.candidates.size();
    run.summary()["replies"] = rows;
    if (rows.empty()) {
        if (open.candidates.empty() && warn_no_fresh_opportunity(run, now - max_age)) {
            return;
        }
        auto const was = [](std::int64_t n) { return counted(n, "was", "were"); };
        log::info(
            "no pending reply opportunity fits (fresh, author not replied to in the "
            "last {} h{}{})",
            cfg.reply_author_cooldown_hours,
            passed.own_posts > 0
                ? ", not the account's own post: " + was(passed.own_posts)
                : std::string{},
            passed.replied_before > 0
                ? ", post not replied to before: " + was(passed.replied_before)
                : std::string{});
        return;
    }
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
    auto const inserted = run.db().exec(insert_replies, json_text(rows), now);
    run.rows_out += inserted.rows();
    log::info("queued {}", counted(inserted.rows(), "reply", "replies"));
}

} // namespace

std::optional<narrow_columns_found> narrow_columns(db_connection& db,
                                                   nlohmann::json const& rows)
{
    auto const narrow = db.exec(narrow_columns_sql, json_text(rows));
    if (narrow.rows() == 0) {
        return std::nullopt;
    }
    std::vector<std::string> columns;
    std::vector<std::string> alters;
    for (int i = 0; i < narrow.rows(); ++i) {
        columns.push_back(fmt::format("content_generation_metadata_comprehensive.{} is "
                                      "{}, too short for \"{}\" ({} "
                                      "characters)",
                                      narrow.str(i, 0), narrow.str(i, 1),
                                      excerpt(narrow.str(i, 3), 60), narrow.str(i, 2)));
        alters.push_back(fmt::format(
            "SELECT xloop.alter_column_type('public.content_generation_metadata_"
            "comprehensive', '{}', 'text')",
            narrow.str(i, 0)));
    }
    return narrow_columns_found{
        fmt::format("{}", fmt::join(columns, "; ")),
        fmt::format(
            "Widen {}: {} (an ALTER TABLE … TYPE that makes the views reading the "
            "column again as they were, with their grants)",
            narrow.rows() == 1 ? "it" : "them", fmt::join(alters, "; "))};
}

nlohmann::json catalogue_rows(plan_config const& cfg)
{
    nlohmann::json rows = nlohmann::json::array();
    nlohmann::json queued = nlohmann::json::object();
    mark_queued(queued);
    rows.push_back(queued);
    for (auto const& [dimension, values] : plan_catalogue(cfg)) {
        for (auto const& v : values) {
            rows.push_back({{dimension == "topic" ? "raw_topic" : dimension, v}});
        }
    }
    return rows;
}

void run_plan(run_context& run, plan_options const& opts)
{
    auto& db = run.db();
    transaction tx{db};
    if (!run.dry_run()) {
        // Transaction-scoped (pooler-safe); posts and replies lock separately.
        run.lock_in_transaction(opts.replies ? "plan-replies" : "plan");
    }
    require_time_zone(db, run.cfg().plan.timezone, "plan.timezone");
    // The transaction waits for the writer (a slow local model and its
    // retries): the session's idle limit is stretched to cover one call and
    // a minute more, not let end the run mid-plan.
    auto const idle_ms = run.cfg().database.idle_in_transaction_timeout_minutes * 60000;
    auto const call_ms = writer_call_limit_ms(run.cfg().plan.writer);
    if (idle_ms > 0 && call_ms >= idle_ms) {
        set_local_settings(db, {{"idle_in_transaction_session_timeout",
                                 std::to_string(std::llround(call_ms + 60000))}});
    }
    rng r{run.seed()};
    auto w = make_writer(run.cfg().plan);
    if (opts.replies) {
        plan_replies(run, *opts.replies, *w, r);
    } else {
        auto const map = read_active_map(db);
        run.summary()["map_id"] = map.id ? row_id_json(*map.id) : nlohmann::json();
        plan_posts(run, map, *w, r);
    }
    run.check_interrupted(); // a signal before the commit: nothing is kept
    tx.commit();
}

} // namespace xloop
