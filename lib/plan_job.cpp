#include "plan_job.hpp"

#include "app.hpp"

#include "calendar.hpp"
#include "canonical.hpp"
#include "json_text.hpp"
#include "log.hpp"
#include "map_shape.hpp"
#include "plan_items.hpp"
#include "plan_replies.hpp"
#include "reply_opportunity.hpp"
#include "row_id.hpp"
#include "sampling.hpp"
#include "stored_values.hpp"
#include "text.hpp"
#include "tweet_length.hpp"
#include "writers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace xloop {

namespace {

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
               < (((l.at AT TIME ZONE $1)::date + 1)::timestamp AT TIME ZONE $1)),
       l.at AT TIME ZONE $1
  FROM last l)sql";

// Each daily time on each of the next $4 local days: instant, hour, local day,
// the local clock (a time without offset, read as UTC: calendar_time).
// A time the clocks skip (02:30 on the spring change) PostgreSQL reads an hour
// later: its hour is the one it goes out at, which build-weights learns from
// posted_at, and two times landing on one instant are one.
constexpr char const* occurrences_sql = R"sql(
SELECT DISTINCT ON (o.at) o.at, to_char(o.at AT TIME ZONE $2, 'HH24'), o.day,
       o.at AT TIME ZONE $2
  FROM (SELECT (d::date + t::time) AT TIME ZONE $2 AS at,
               to_char(d::date, 'YYYY-MM-DD') AS day
          FROM generate_series(($1::timestamptz AT TIME ZONE $2)::date,
                               ($1::timestamptz AT TIME ZONE $2)::date + $4::int,
                               interval '1 day') d,
               unnest($3::text[]) t) o
 WHERE o.at > $1::timestamptz
 ORDER BY o.at)sql";

using catalogue = std::map<std::string, std::vector<std::string>>;

// Where the calendar stands: the latest item's time, slot and the posts on
// its local day.
struct calendar_state {
    std::optional<calendar_time> last;
    std::string last_slot;
    std::map<std::string, int> posts_on_day;
};

calendar_state read_calendar(db_connection& db, plan_config const& cfg)
{
    calendar_state c;
    auto const last = db.exec(latest_item_sql, cfg.timezone, readable_times_end);
    if (last.rows() == 1) {
        if (!last.is_null(0, 0)) {
            if (auto const at = parse_timestamp(last.get(0, 0))) {
                c.last =
                    calendar_time{*at, parse_timestamp(last.get(0, 4)).value_or(*at)};
            }
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
    if (!calendar.last || calendar.last->at <= now) {
        return now;
    }
    auto const queue_days =
        static_cast<double>(cfg.queue_ahead) / std::max(cfg.posts_a_day(), 1) + 1;
    auto const reach = std::max(fractional_days(queue_days), fractional_hours(48));
    if (calendar.last->at > now + reach) {
        log::warn(
            "the latest queued or posted item is at {}, {:.1f} days ahead: new "
            "items follow it",
            format_timestamp(calendar.last->at),
            std::chrono::duration<double, std::ratio<86400>>(calendar.last->at - now)
                .count());
    }
    return calendar.last->at;
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
        auto const at = *parse_timestamp(slots.get(i, 0));
        out.push_back({{at, parse_timestamp(slots.get(i, 3)).value_or(at)},
                       slots.str(i, 1),
                       slots.str(i, 2)});
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

void plan_posts(run_context& run, active_map const& map, writer& w, rng& r)
{
    auto& db = run.db();
    auto const& cfg = run.cfg().plan;
    auto const now = run.now();
    auto const queue = read_queue(db, now, queue_of::posts);
    auto const need = cfg.queue_ahead - queue.queued;
    run.summary()["queued_before"] = queue.queued;
    run.summary()["queued_due"] = queue.due;
    run.summary()["queued_never_due"] = queue.never_due;
    if (!report_queue(queue, queue_of::posts, cfg.queue_ahead, run.cfg(), now)) {
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
        auto const day = next_post_day(occurrences, calendar.last, gap, cfg.posts_per_day,
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
        calendar.last = slot;
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

} // namespace

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
    if (opts.replies) {
        // Replies run on a schedule of their own: their runs, failures and
        // lock are plan-replies', so validate sees them apart from posts'.
        run.record_as("plan-replies");
    }
    auto& db = run.db();
    transaction tx{db};
    if (!run.dry_run()) {
        run.lock_in_transaction(); // transaction-scoped (pooler-safe)
    }
    require_time_zone(db, run.cfg().plan.timezone, key_place(run.cfg(), "plan.timezone"));
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
    auto w = make_writer(run.cfg());
    if (opts.replies) {
        plan_replies(run, *opts.replies, *w, r);
    } else {
        auto const map = read_active_map(db);
        run.summary()["map_id"] = map.id ? row_id_json(*map.id) : nlohmann::json();
        plan_posts(run, map, *w, r);
    }
    run.check_interrupted(); // a signal before the commit: nothing is kept
    tx.commit();
    // what validate reads of the run, in its ledger row once committed
    for (auto const* key :
         {"expired_age_unknown", "texts_refused", "text_refused_because"}) {
        if (run.summary().contains(key)) {
            run.detail()[key] = run.summary()[key];
        }
    }
}

} // namespace xloop
