#include "plan_items.hpp"

#include "app.hpp"
#include "config.hpp"
#include "copy_row.hpp"
#include "db.hpp"
#include "json_text.hpp"
#include "log.hpp"
#include "plan_job.hpp"
#include "sha256.hpp"
#include "text.hpp"
#include "tweet_length.hpp"

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

namespace xloop {

namespace {

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

} // namespace

queue_state read_queue(db_connection& db, timestamp now, queue_of kind)
{
    auto const r = db.exec(R"sql(
SELECT count(*) FILTER (WHERE scheduled_at < $2::timestamptz),
       count(*) FILTER (WHERE scheduled_at <= $1::timestamptz),
       min(scheduled_at) FILTER (WHERE scheduled_at <= $1::timestamptz),
       count(*) FILTER (WHERE scheduled_at >= $2::timestamptz),
       max(scheduled_at) FILTER (WHERE scheduled_at >= $2::timestamptz)
  FROM public.content_generation_metadata_comprehensive
 WHERE status = 'queued' AND coalesce(decision_type = 'reply', false) = $3::boolean
   AND scheduled_at IS NOT NULL)sql",
                           now, readable_times_end, kind == queue_of::replies);
    return {r.i64(0, 0), r.i64(0, 1), stored_timestamp_text(r.opt_str(0, 2).value_or("")),
            r.i64(0, 3), stored_timestamp_text(r.opt_str(0, 4).value_or(""))};
}

bool report_queue(queue_state const& queue, queue_of kind, std::int64_t limit,
                  config const& cfg, timestamp now)
{
    bool const replies = kind == queue_of::replies;
    auto const items = [&](std::int64_t n, std::string_view before = "") {
        return counted(n, fmt::format("{}{}", before, replies ? "reply" : "item"),
                       fmt::format("{}{}", before, replies ? "replies" : "items"));
    };
    auto const* const name = replies ? "the reply queue" : "the queue";
    auto const limit_text = replies ? fmt::format("--replies {}", limit)
                                    : fmt::format("plan.queue_ahead = {}", limit);
    if (queue.never_due > 0) {
        bool const one = queue.never_due == 1;
        log::warn("{} {} scheduled at a time that never comes (e.g. {}): not counted in "
                  "{}, no poster will take {}. Give {} a time, or set {} status to "
                  "'skipped'",
                  items(queue.never_due, "queued "), one ? "is" : "are",
                  queue.never_due_example, name, one ? "it" : "them", one ? "it" : "them",
                  one ? "its" : "their");
    }
    if (queue.queued < limit) {
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
        log::warn("{} holds {}, {} of them due and not yet posted, the oldest scheduled "
                  "at {}{}: nothing is added until the poster takes them. Is it running? "
                  "{} no poster will take: set their status to 'skipped'",
                  name, items(queue.queued), queue.due, queue.oldest_due,
                  std::isfinite(overdue) ? fmt::format(" ({} ago)", hours_text(overdue))
                                         : std::string{},
                  replies ? "Replies" : "Items");
    } else if (queue.due > 0) {
        log::info("{} holds {}, {} of them due and not yet posted ({}): nothing to add "
                  "until the poster takes {}",
                  name, items(queue.queued), queue.due, limit_text,
                  queue.due == 1 ? "it" : "them");
    } else {
        log::info("{} holds {} ({}): nothing to add", name,
                  items(queue.queued, "future "), limit_text);
    }
    return false;
}

known_texts::known_texts(run_context& run)
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

bool known_texts::contains(std::string const& hash) const
{
    return m_run.count(hash) > 0 ||
           std::binary_search(m_others.begin(), m_others.end(), key(hash));
}

std::uint64_t known_texts::key(std::string const& hex_hash)
{
    return std::stoull(hex_hash.substr(0, 16), nullptr, 16);
}

namespace {

// What is wrong with the number of parts a writer wrote, if anything: a
// single or a reply is one post (its parts joined would be posted as one,
// and X refuses one past 280 characters), a thread as many parts as the
// config allows.
std::optional<std::string> wrong_shape(writer_request const& q, std::size_t parts,
                                       plan_config const& cfg)
{
    if (q.decision_type != "thread") {
        if (parts == 1) {
            return std::nullopt;
        }
        return fmt::format("{} parts (separated by lines of ---) where one post was "
                           "asked for",
                           parts);
    }
    if (parts >= static_cast<std::size_t>(cfg.thread_min_parts) &&
        parts <= static_cast<std::size_t>(cfg.thread_max_parts)) {
        return std::nullopt;
    }
    return fmt::format("a thread of {} part{} where {} were asked for", parts,
                       parts == 1 ? "" : "s", q.parts);
}

// The first label of a part ("Tweet 1:") among the parts.
std::optional<std::string> first_part_label(std::vector<std::string> const& parts)
{
    for (auto const& part : parts) {
        if (auto label = part_label(part)) {
            return label;
        }
    }
    return std::nullopt;
}

// The first account a text mentions that it may not: X's automation rules
// forbid unsolicited mentions (an account that sends them is suspended), and
// a model quoting the post it answers may copy its @handles.
std::optional<std::string> unasked_mention(writer_request const& q,
                                           std::vector<std::string> const& parts)
{
    auto const author = to_lower(q.reply_to_author);
    for (auto const& part : parts) {
        for (auto const& handle : mentioned_handles(part)) {
            if (q.decision_type != "reply" || handle != author) {
                return handle;
            }
        }
    }
    return std::nullopt;
}

// The first link a model's text holds that the plan did not give it (in the
// post it answers): a model asked for a post invents addresses, which lead
// nowhere or to whoever registers them.
std::optional<std::string> made_up_link(writer_request const& q,
                                        std::vector<std::string> const& parts)
{
    for (auto const& part : parts) {
        for (auto const& link : written_links(part)) {
            if (q.reply_to_text.find(link) == std::string::npos) {
                return link;
            }
        }
    }
    return std::nullopt;
}

// What makes a writer's text no post to queue, if anything (a duplicate
// aside): the parts asked for, a model's habits (the templates are the
// operator's own words), bytes PostgreSQL cannot store or X would post as
// they are, a part past 280 characters as X counts them.
std::optional<std::string> text_problem(plan_config const& cfg, writer_request const& q,
                                        std::vector<std::string> const& parts)
{
    if (auto const shape = wrong_shape(q, parts.size(), cfg)) {
        return shape;
    }
    if (cfg.writer.kind != "template") {
        if (auto const preamble = chat_preamble(parts.front())) {
            return fmt::format("a text that begins with a line to the reader of the "
                               "answer ({}), which would be posted: give the post alone",
                               json_text(excerpt(*preamble, 60)));
        }
        if (auto const label = first_part_label(parts)) {
            return fmt::format("a part that begins with its label ({}), which would be "
                               "posted: give the parts alone, separated by lines of ---",
                               json_text(*label));
        }
        if (auto const who = unasked_mention(q, parts)) {
            return fmt::format(
                "a text that mentions @{}, whom X would notify: an "
                "automated account mentions no one unasked{}",
                *who, q.decision_type == "reply" ? " but the author it answers" : "");
        }
    }
    // what xloop's own prompt asks of the model; a command's program is the
    // operator's, and may add a link of theirs
    if (cfg.writer.kind == "openai") {
        if (auto const link = made_up_link(q, parts)) {
            return fmt::format("a text with a link ({}) the plan gave none of: a "
                               "model's links are made up; give the post without links",
                               excerpt(*link, 60));
        }
    }
    if (std::any_of(parts.begin(), parts.end(),
                    [](auto const& p) { return valid_utf8(p) != p; })) {
        return "a text that is not UTF-8, or holds a NUL byte";
    }
    // Line breaks and tabs are text; any other control character (a
    // terminal's escape sequence, a backspace) would be posted as it is.
    if (auto const odd =
            std::find_if(parts.begin(), parts.end(),
                         [](auto const& p) { return has_stray_controls(p); });
        odd != parts.end()) {
        return fmt::format("a text holding a control character ({})",
                           excerpt(escape_controls(*odd), 60));
    }
    auto const too_long = std::find_if(parts.begin(), parts.end(), [](auto const& p) {
        return tweet_length(p) > max_tweet_length;
    });
    if (too_long != parts.end()) {
        return fmt::format("a part of {} characters as X counts them (at most 280)",
                           tweet_length(*too_long));
    }
    return std::nullopt;
}

// A text refused: said by hand (-q hides it), and counted for the ledger,
// where validate reads how often the writer's texts were no post.
void note_refused(run_context& run, writer_request const& q, std::string const& problem)
{
    log::info("asking the writer again for the {} about '{}': its text was {}",
              q.decision_type, q.topic, problem);
    auto& n = run.summary()["texts_refused"];
    n = n.is_number_integer() ? n.get<std::int64_t>() + 1 : 1;
    run.summary()["text_refused_because"] = problem;
}

} // namespace

std::vector<std::string> write_text(run_context& run, writer& w, writer_request q,
                                    known_texts& known, std::string& hash, rng& r)
{
    int const tries = run.cfg().plan.writer.max_tries;
    std::string last_problem;
    for (q.attempt = 0; q.attempt < tries; ++q.attempt) {
        q.retry_because = last_problem; // a writer that can shorten or vary its text
        std::vector<std::string> parts;
        std::optional<std::string> problem;
        try {
            parts = w.write(q, r);
            problem = text_problem(run.cfg().plan, q, parts);
        } catch (unusable_text const& e) {
            problem = e.what();
        }
        if (problem) {
            note_refused(run, q, *problem);
            last_problem = std::move(*problem);
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
char const* const insert_items = R"sql(
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

std::string text_in(nlohmann::json const& row, char const* key)
{
    auto const v = row.find(key);
    return v != row.end() && v->is_string() ? v->get<std::string>() : std::string{};
}

void mark_queued(nlohmann::json& row)
{
    row["status"] = "queued";
    row["generation_source"] = "xloop";
}

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

} // namespace xloop
