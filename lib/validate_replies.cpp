#include "validate_checks.hpp"

#include "config.hpp"
#include "db.hpp"
#include "learn_replies_job.hpp"
#include "reply_opportunity.hpp"
#include "text.hpp"

namespace xloop::checks {

namespace {

// {0} the handle pattern, {1} the account key of target_username; $1 now,
// $2 the reply window in days, $3 the account's own key (own_handle()
// lower-cased, or ''): its replies to itself teach nothing (learn-replies).
constexpr char const* reply_priorities_sql = R"sql(
SELECT (SELECT count(*)
          FROM (SELECT DISTINCT {1}
                  FROM xloop.vw_learning
                 WHERE decision_type = 'reply'
                   AND ltrim(btrim(target_username), '@') ~ '^{0}$'
                   AND {1} <> $3
                   AND posted_at > $1::timestamptz - make_interval(days => $2::int)
                   AND posted_at <= $1::timestamptz) accounts),
       (SELECT count(*) FROM public.discovered_accounts
         WHERE priority_score NOT IN (0, 0.5) AND priority_score BETWEEN 0 AND 1),
       (SELECT count(*) FROM public.discovered_accounts),
       (SELECT count(DISTINCT priority_score) FROM public.discovered_accounts),
       (SELECT min(priority_score)::text FROM public.discovered_accounts),
       -- NaN (a numeric holds it) or outside [0, 1]: plan ranks it as 0.5 or
       -- the nearest bound; how many, and one of them
       o.n, o.example
  FROM (SELECT count(*) AS n,
               min(format('@%s: %s', username, priority_score)) AS example
          FROM public.discovered_accounts
         WHERE NOT priority_score BETWEEN 0 AND 1) o)sql";

} // namespace

bool check_context::replies_in_use()
{
    if (!in_use) {
        in_use = db.exec(R"sql(
SELECT EXISTS (SELECT FROM public.reply_opportunities
                WHERE discovered_at > $1::timestamptz - make_interval(days => $2)
                   OR (status = 'pending' AND discovered_at IS NULL))
    OR EXISTS (SELECT FROM public.content_generation_metadata_comprehensive
                WHERE decision_type = 'reply'
                  AND created_at > $1::timestamptz - make_interval(days => $2)
                  AND created_at <= $1::timestamptz))sql",
                         now, days)
                     .str(0, 0) == "t";
    }
    return *in_use;
}

namespace {

// No reply in the window names an account: replies that name none, no
// reply while replies are in use, or an account that only posts.
void judge_no_replies(check_context& x, check_result& c)
{
    // as learn-replies counts them, so both say one number
    auto const unnamed = unnamed_replies(x.db, x.now, x.cfg.replies);
    c.numbers["replies_naming_no_account"] = unnamed;
    auto const window = fmt::format("the last {:g} days (replies.window_days)",
                                    x.cfg.replies.window_days);
    if (unnamed > 0) {
        c.status = "warn";
        c.message = unnamed_replies_text(unnamed, x.cfg.replies.window_days);
    } else if (x.replies_in_use()) {
        c.status = "warn";
        c.message = fmt::format("no reply posted in {}: nothing to learn from", window);
    } else {
        // an account that only posts: as reply_opportunities says, no fault
        c.message = fmt::format("no replies in {}, and replies are not in use", window);
    }
}

} // namespace

check_result reply_priorities_check(check_context& x)
{
    // A priority of 0 is the original bot's constant, 0.5 no evidence. The
    // accounts replied to as learn-replies names them ('@Amy ' is amy);
    // counted from a DISTINCT, which may hash and scan in parallel (a
    // count(DISTINCT) sorts: 1.7 against 0.9 s over 250 000 replies).
    auto const r =
        x.db.exec(fmt::format(reply_priorities_sql, x_handle_pattern,
                              account_key_sql("target_username")),
                  x.now, static_cast<int>(x.cfg.replies.window_days), x.own_key());
    auto const replied = r.i64(0, 0);
    auto const accounts = r.i64(0, 2);
    // Every account at one value is a constant, not something learned.
    bool const all_same = accounts > 1 && r.i64(0, 3) == 1;
    auto const learned = all_same ? 0 : r.i64(0, 1);
    auto c = make("reply_priorities", "ok", "");
    auto const odd = r.i64(0, 5);
    c.numbers = {{"accounts_replied_to", replied},
                 {"accounts_with_priority", learned},
                 {"accounts", accounts},
                 {"accounts_with_odd_priority", odd}};
    if (all_same && replied > 0) {
        c.status = "fail";
        c.message = fmt::format(
            "all {} accounts have the same priority ({}): nothing was learned; run "
            "xloop-learn-replies; {}",
            accounts, r.opt_str(0, 4).value_or("NULL"), x.last_run("learn-replies"));
    } else if (replied == 0) {
        judge_no_replies(x, c);
    } else if (ratio(learned, replied) < x.cfg.validate.min_priority_coverage) {
        c.status = "fail";
        c.message = fmt::format("{} replied to, {} with a learned priority: run "
                                "xloop-learn-replies; {}",
                                counted(replied, "account", "accounts"), learned,
                                x.last_run("learn-replies"));
    } else {
        c.message = fmt::format("{} replied to, {} with a learned priority",
                                counted(replied, "account", "accounts"), learned);
    }
    if (odd > 0) {
        c.status = c.status == "fail" ? "fail" : "warn";
        c.message +=
            fmt::format("; {} a priority_score that is no number in [0, 1] (e.g. {:?}): "
                        "plan ranks {} "
                        "as 0.5 or the nearest bound until xloop-learn-replies writes {}",
                        counted(odd, "account has", "accounts have"),
                        example_text(r.opt_str(0, 6).value_or(""), 60),
                        odd == 1 ? "it" : "them", odd == 1 ? "it" : "them");
    }
    return c;
}

namespace {

// {0} why an opportunity is unusable, {1} its score as text, {2} whether it is
// the account's own, {3} dated_ahead_sql; $1 now, $2 days, $3 the own key.
// Last, the pending ones without a discovered_at, which plan will expire,
// and those dated later than now past the clocks' allowance ($4 seconds).
// A status that is none of plan's (4: a harvester writing 'new', 'Pending' or
// NULL) is unusable too: plan takes 'pending' ones only, and replies stopped
// while the check counted the harvester's rows as coming in.
constexpr char const* reply_opportunities_sql = R"sql(
SELECT w.*, f.n, f.hours_ahead, f.tweet_id
  FROM (
SELECT to_char(max(discovered_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"'),
       extract(epoch FROM $1::timestamptz - max(discovered_at)) / 3600,
       count(*) FILTER (WHERE discovered_at > $1::timestamptz - make_interval(days => $2)),
       (SELECT count(*) FROM public.content_generation_metadata_comprehensive
         WHERE decision_type = 'reply'
           AND created_at > $1::timestamptz - make_interval(days => $2)
           AND created_at <= $1::timestamptz),
       count(*) FILTER (WHERE discovered_at > $1::timestamptz - make_interval(days => $2)
                          AND u.unusable IS NOT NULL),
       min(CASE u.unusable
           WHEN 1 THEN 'a tweet_author ' || coalesce(quote_literal(r.tweet_author), 'NULL')
                       || ' that is no X handle'
           WHEN 2 THEN 'a tweet_id ' || coalesce(quote_literal(r.tweet_id::text), 'NULL')
                       || ' that is no X post id'
           WHEN 3 THEN 'an opportunity_score ' || {1}
                       || ' that is no number plan can rank'
           WHEN 4 THEN 'a status ' || coalesce(quote_literal(r.status::text), 'NULL')
                       || ', where plan replies to ''pending'' ones'
           WHEN 5 THEN 'the account''s own post, tweet ' || r.tweet_id::text || ' by @'
                       || ltrim(btrim(r.tweet_author), '@')
           END) FILTER (WHERE discovered_at > $1::timestamptz - make_interval(days => $2)),
       (SELECT count(*) FROM public.reply_opportunities
         WHERE status = 'pending' AND discovered_at IS NULL)
  FROM public.reply_opportunities r
 CROSS JOIN LATERAL (
     SELECT CASE WHEN coalesce(r.status::text NOT IN ('pending', 'replied', 'expired',
                                                      'skipped'), true)
                 THEN 4 ELSE coalesce({0}, {2}) END AS unusable) u
 WHERE discovered_at <= $1::timestamptz AND isfinite(discovered_at)) w
 CROSS JOIN ({3}) f)sql";

// 5 where a usable opportunity of the window is the account's own post, which
// plan passes over: by its handle ($3, check_context::own_key(), when known),
// or by a tweet id of its items of the window and the week before (a
// harvester's search reaches a week back; a hash of those ids only, not of
// every item). {0}: the author's account key.
constexpr char const* own_opportunity_sql = R"sql(
CASE WHEN discovered_at > $1::timestamptz - make_interval(days => $2)
      AND (($3 <> '' AND {0} = $3)
           OR r.tweet_id::text IN (
              SELECT c.tweet_id FROM public.content_generation_metadata_comprehensive c
               WHERE c.tweet_id IS NOT NULL
                 AND c.created_at > $1::timestamptz - make_interval(days => $2 + 7)))
     THEN 5 END)sql";

// Fresh opportunities: how many came in, and how many plan cannot reply to.
void judge_fresh(check_context& x, db_result const& r, double age, check_result& c)
{
    auto const found = r.i64(0, 2);
    auto const unusable = r.i64(0, 4);
    c.message = fmt::format("{} came in during the last {}, the newest {}",
                            counted(found, "opportunity", "opportunities"), x.last_days(),
                            ago_text(age));
    if (found > 0 && unusable == found) {
        c.status = "warn";
        c.message = fmt::format("none of the {} opportunities of the last {} can be "
                                "replied to (e.g. {}): fix the harvester that fills "
                                "reply_opportunities",
                                found, x.last_days(), r.str(0, 5));
    } else if (unusable > 0) {
        c.message += fmt::format("; {} of them cannot be replied to (e.g. {})", unusable,
                                 r.str(0, 5));
    }
}

// The check's status and message from reply_opportunities_sql's row, but
// for the `ahead` ones dated later than now; `unknown_age` without a date.
void judge_opportunities(check_context& x, db_result const& r, std::int64_t unknown_age,
                         std::int64_t ahead, check_result& c)
{
    auto const hours = x.cfg.validate.max_opportunity_age_hours;
    auto const found = r.i64(0, 2);
    auto const replies = r.i64(0, 3);
    if (found == 0 && replies == 0 && unknown_age == 0 && ahead == 0) {
        c.message = fmt::format("no reply opportunities and no replies in the last {}: "
                                "replies are not in use",
                                x.last_days());
        return;
    }
    // hours since the newest with a discovered_at, if any
    bool const dated = !r.is_null(0, 1);
    double const age = dated ? r.f64(0, 1) : 0.0;
    c.numbers["newest_hours_ago"] = dated ? nlohmann::json(age) : nlohmann::json(nullptr);
    constexpr char const* write_the_time =
        "the harvester that fills reply_opportunities must write discovered_at, or "
        "leave it to its default (now())";
    if (unknown_age > 0 && (!dated || found == 0 || age > hours)) {
        c.status = "warn";
        c.message = fmt::format(
            "{} without a discovered_at, {}: xloop-plan expires them unreplied (a "
            "tweet of unknown age is never replied to); {}",
            counted(unknown_age, "opportunity", "opportunities"),
            !dated || found == 0
                ? fmt::format("none with one in the last {}", x.last_days())
                : fmt::format("the newest with one {}", old_text(age)),
            write_the_time);
        return;
    }
    if (!dated && ahead > 0) {
        // all of them ahead: said by the caller
        c.message = fmt::format("{} in the last {}, but none of the opportunities is "
                                "dated up to now",
                                counted(replies, "reply", "replies"), x.last_days());
        return;
    }
    if (!dated || age > hours) {
        c.status = "warn";
        c.message = fmt::format(
            "{} in the last {}, but {}: replies stop until the harvester "
            "that fills reply_opportunities runs again",
            counted(replies, "reply", "replies"), x.last_days(),
            dated ? fmt::format("no opportunity came in for {} (the newest at {})",
                                hours_text(age), r.str(0, 0))
                  : std::string{"reply_opportunities is empty"});
        return;
    }
    judge_fresh(x, r, age, c);
    if (unknown_age > 0) {
        c.message += fmt::format("; {} without a discovered_at, which xloop-plan expires "
                                 "unreplied: {}",
                                 unknown_age, write_the_time);
    }
}

} // namespace

// Replies need opportunities, which a harvester outside xloop finds: when it
// stops, plan --replies has nothing to take and succeeds, and the replies
// end with no other sign for a month (the reply window). Those plan cannot
// reply to are counted apart: a harvester writing only such rows stops
// replies as surely as one that stopped.
check_result reply_opportunities_check(check_context& x)
{
    auto const r = x.db.exec(
        fmt::format(reply_opportunities_sql, unusable_opportunity_sql(),
                    opportunity_score_example_sql,
                    fmt::format(own_opportunity_sql, account_key_sql("r.tweet_author")),
                    dated_ahead_sql("$1", "$4")),
        x.now, x.days, x.own_key(), x.cfg.metrics.max_clock_skew_minutes * 60);
    // A harvester writing discovered_at as NULL: those waiting, and those
    // plan expired in the window (its ledger counts them).
    // expired by plan --replies: plan-replies' runs, plan's before they were apart
    auto const unknown_age = r.i64(0, 6) + x.job("plan").expired_age_unknown +
                             x.job("plan-replies").expired_age_unknown;
    auto const ahead = r.i64(0, 7);
    auto c = make("reply_opportunities", "ok", "");
    c.numbers = {{"found_in_window", r.i64(0, 2)},
                 {"replies_in_window", r.i64(0, 3)},
                 {"unusable_in_window", r.i64(0, 4)},
                 {"without_discovered_at", unknown_age},
                 {"dated_in_future", ahead}};
    judge_opportunities(x, r, unknown_age, ahead, c);
    // A harvester writing its local time as UTC: plan sees each only hours
    // later, and then as fresh.
    if (ahead > 0) {
        add_warning(c, fmt::format("{} a discovered_at later than now (up to {} ahead, "
                                   "e.g. tweet {}): plan takes each only once its time "
                                   "has come, then as fresh, so it replies to tweets "
                                   "that old and older; does the harvester write local "
                                   "time as UTC?",
                                   counted(ahead, "pending one has", "pending ones have"),
                                   hours_text(r.f64(0, 8)), r.str(0, 9)));
    }
    return c;
}

} // namespace xloop::checks
