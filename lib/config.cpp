#include "config.hpp"

#include "canonical.hpp"
#include "error.hpp"
#include "http_client.hpp"
#include "nearest.hpp"
#include "text.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string_view>

namespace xloop {

namespace {

// An absent key, or one given as null (`key: ~`), keeps its default.
bool present(YAML::Node const& n)
{
    return n.IsDefined() && !n.IsNull();
}

// Reads one YAML mapping into struct fields; every error names file, line and
// the dotted key path.
class section {
public:
    // `keys`, when given, collects the dotted name of every key read.
    section(std::string const& file, YAML::Node node, std::string path,
            std::vector<std::string>* keys = nullptr)
        : m_file(file), m_node(std::move(node)), m_path(std::move(path)), m_keys(keys)
    {
        if (present(m_node) && !m_node.IsMap()) {
            fail(m_node, "must be a mapping");
        }
    }

    ~section() noexcept(false)
    {
        // Unknown keys are errors: a typo must not silently fall back to a default.
        if (!present(m_node) || !m_node.IsMap() || std::uncaught_exceptions() > 0) {
            return;
        }
        for (auto const& kv : m_node) {
            auto const key = kv.first.as<std::string>();
            if (!m_known.count(key)) {
                throw config_error{fmt::format("{}:{}: unknown key '{}'{}", m_file,
                                               kv.first.Mark().line + 1, name(key),
                                               meant(key))};
            }
        }
    }

    YAML::Node child(char const* key)
    {
        if (m_known.insert(key).second && m_keys) { // a key read twice is listed once
            m_keys->push_back(name(key));
        }
        YAML::Node const& node = m_node; // const lookup never inserts the key
        return present(node) && node.IsMap() ? node[key]
                                             : YAML::Node{YAML::NodeType::Undefined};
    }

    section sub(char const* key)
    {
        return section{m_file, child(key), name(key), m_keys};
    }

    void number(char const* key, double& out, double lo, double hi)
    {
        auto const n = child(key);
        if (!present(n)) {
            return;
        }
        out = as_number(n, key);
        if (!(out >= lo && out <= hi)) {
            fail(n, fmt::format("'{}' must be between {} and {} (got {})", name(key), lo,
                                hi, n.Scalar()));
        }
    }

    void number(char const* key, std::optional<double>& out, double lo, double hi)
    {
        if (!present(child(key))) {
            return;
        }
        double v = 0;
        number(key, v, lo, hi);
        out = v;
    }

    void boolean(char const* key, bool& out)
    {
        auto const n = child(key);
        if (!present(n)) {
            return;
        }
        auto const v = n.IsScalar() ? n.Scalar() : std::string{};
        if (v == "true" || v == "yes" || v == "on") {
            out = true;
        } else if (v == "false" || v == "no" || v == "off") {
            out = false;
        } else {
            fail(n, fmt::format("'{}' must be true or false (got {})", name(key), v));
        }
    }

    void integer(char const* key, int& out, int lo, int hi)
    {
        auto const n = child(key);
        if (!present(n)) {
            return;
        }
        double const v = as_number(n, key);
        if (v != std::floor(v) || v < lo || v > hi) {
            fail(n, fmt::format("'{}' must be a whole number between {} and {} (got {})",
                                name(key), lo, hi, n.Scalar()));
        }
        out = static_cast<int>(v);
    }

    void text(char const* key, std::string& out,
              std::set<std::string> const& allowed = {})
    {
        auto const n = child(key);
        if (!present(n)) {
            return;
        }
        if (!n.IsScalar()) {
            fail(n, fmt::format("'{}' must be a string", name(key)));
        }
        out = n.Scalar();
        if (!allowed.empty() && !allowed.count(out)) {
            std::string list;
            for (auto const& a : allowed) {
                list += (list.empty() ? "" : ", ") + a;
            }
            fail(n,
                 fmt::format("'{}' must be one of {} (got '{}')", name(key), list, out));
        }
    }

    // A string that means nothing when empty (a model, a variable's name).
    void name_text(char const* key, std::string& out)
    {
        text(key, out);
        if (auto const n = child(key); present(n) && trim(out).empty()) {
            fail(n, fmt::format("'{}' must not be empty", name(key)));
        }
    }

    // A time zone by name. An offset ("UTC+3", "+03:00", "-5") PostgreSQL
    // reads the POSIX way, west of UTC: "UTC+3" is three hours behind UTC,
    // and every post would go out six hours from the time meant. Whether
    // PostgreSQL knows the name is asked where a tool connects.
    void time_zone(char const* key, std::string& out, key_places& places)
    {
        text(key, out);
        auto const n = child(key);
        if (!present(n)) {
            return;
        }
        places[name(key)] =
            fmt::format("{}:{}: '{}'", m_file, n.Mark().line + 1, name(key));
        auto rest = std::string_view{out};
        for (auto const* prefix : {"UTC", "GMT"}) {
            if (rest.size() >= 3 && to_lower(rest.substr(0, 3)) == to_lower(prefix)) {
                rest.remove_prefix(3);
            }
        }
        rest = rest.substr(std::min(rest.find_first_not_of(' '), rest.size()));
        if (!rest.empty() && (rest.front() == '+' || rest.front() == '-' ||
                              std::isdigit(static_cast<unsigned char>(rest.front())))) {
            fail(n,
                 fmt::format("'{}' must be a time zone's name, e.g. 'Europe/Moscow' (got "
                             "'{}': PostgreSQL reads an offset the POSIX way, west of "
                             "UTC, so 'UTC+3' is three hours behind UTC)",
                             name(key), out));
        }
    }

    // An X handle: 1–15 letters, digits or '_', an '@' before it dropped; empty
    // is none. One that is not would be asked for every run, and fail every run.
    void handle(char const* key, std::string& out)
    {
        text(key, out);
        auto const n = child(key);
        if (!present(n) || out.empty()) {
            return;
        }
        if (out.front() == '@') {
            out.erase(0, 1);
        }
        bool const ok = !out.empty() && out.size() <= 15 &&
                        std::all_of(out.begin(), out.end(), [](unsigned char c) {
                            return std::isalnum(c) || c == '_';
                        });
        if (!ok) {
            fail(n, fmt::format("'{}' must be an X handle: 1 to 15 letters, digits or "
                                "'_' (got '{}')",
                                name(key), n.Scalar()));
        }
    }

    // An http:// or https:// URL with a host: anything else (another scheme,
    // none, a typo) would fail every run as an unreachable service, which
    // cron retries for ever.
    void url(char const* key, std::string& out)
    {
        text(key, out);
        auto const n = child(key);
        if (!present(n)) {
            return;
        }
        auto const lower = to_lower(out);
        std::size_t const scheme = lower.rfind("https://", 0) == 0  ? 8
                                   : lower.rfind("http://", 0) == 0 ? 7
                                                                    : 0;
        auto const host_end = out.find_first_of("/?#", scheme);
        bool const ok = scheme > 0 && out.size() > scheme && host_end != scheme &&
                        out.find_first_of(" \t\r\n") == std::string::npos;
        if (!ok) {
            fail(n, fmt::format("'{}' must be an http:// or https:// URL with a host "
                                "(got '{}')",
                                name(key), out));
        }
    }

    // An empty list is an error unless `may_be_empty`: `times: []` would
    // leave plan nothing to schedule, `dimensions: []` nothing to learn.
    // A list of names; `unique`: one listed twice is a mistake (a field
    // counted twice in the engagement rate, a dimension learned twice).
    void text_list(char const* key, std::vector<std::string>& out,
                   std::set<std::string> const& allowed = {}, bool may_be_empty = false,
                   bool unique = true)
    {
        auto const n = child(key);
        if (!present(n)) {
            return;
        }
        out = strings(n, name(key), allowed);
        if (out.empty() && !may_be_empty) {
            fail(n, fmt::format("'{}' must not be empty", name(key)));
        }
        std::set<std::string> seen;
        for (auto const& item : n) {
            if (unique && !seen.insert(item.Scalar()).second) {
                fail(item,
                     fmt::format("'{}' lists '{}' twice", name(key), item.Scalar()));
            }
        }
    }

    void number_list(char const* key, std::vector<double>& out, double lo, double hi)
    {
        auto const n = child(key);
        if (!present(n)) {
            return;
        }
        if (!n.IsSequence()) {
            fail(n, fmt::format("'{}' must be a list of numbers", name(key)));
        }
        out.clear();
        for (auto const& item : n) {
            double const v = as_number(item, key);
            if (!(v >= lo && v <= hi)) {
                fail(item, fmt::format("'{}' values must be between {} and {} (got {})",
                                       name(key), lo, hi, item.Scalar()));
            }
            if (std::find(out.begin(), out.end(), v) != out.end()) {
                fail(item, fmt::format("'{}' lists {} twice", name(key), item.Scalar()));
            }
            out.push_back(v);
        }
        if (out.empty()) {
            fail(n, fmt::format("'{}' must not be empty", name(key)));
        }
    }

    // A mapping of names to lists of strings (catalogues, templates); the
    // checks say what is wrong with a name or an item (empty: nothing).
    void list_map(char const* key, std::map<std::string, std::vector<std::string>>& out,
                  std::set<std::string> const& allowed_keys = {},
                  std::function<std::string(std::string const&)> const& name_problem = {},
                  std::function<std::string(std::string const&)> const& item_problem = {})
    {
        auto const n = child(key);
        if (!present(n)) {
            return;
        }
        if (!n.IsMap()) {
            fail(n, fmt::format("'{}' must be a mapping of names to lists", name(key)));
        }
        out.clear();
        for (auto const& kv : n) {
            auto const k = kv.first.as<std::string>();
            if (!allowed_keys.empty() && !allowed_keys.count(k)) {
                fail_unknown(kv.first, key, k, allowed_keys);
            }
            if (name_problem) {
                if (auto const why = name_problem(k); !why.empty()) {
                    fail(kv.first, fmt::format("'{}.{}': {}", name(key), k, why));
                }
            }
            out[k] = strings(kv.second, name(key) + "." + k, {});
            if (out[k].empty()) {
                fail(kv.second, fmt::format("'{}.{}' must not be empty", name(key), k));
            }
            for (auto const& item : kv.second) {
                if (auto const why = item_problem ? item_problem(item.Scalar()) : "";
                    !why.empty()) {
                    fail(item, fmt::format("'{}.{}': {}", name(key), k, why));
                }
            }
        }
    }

    void number_map(char const* key, std::map<std::string, double>& out,
                    std::set<std::string> const& allowed_keys, double lo, double hi)
    {
        auto const n = child(key);
        if (!present(n)) {
            return;
        }
        if (!n.IsMap()) {
            fail(n, fmt::format("'{}' must be a mapping", name(key)));
        }
        for (auto const& kv : n) {
            auto const k = kv.first.as<std::string>();
            if (!allowed_keys.count(k)) {
                fail_unknown(kv.first, key, k, allowed_keys);
            }
            double const v = as_number(kv.second, key);
            if (!(v >= lo && v <= hi)) {
                fail(kv.second, fmt::format("'{}.{}' must be between {} and {}",
                                            name(key), k, lo, hi));
            }
            out[k] = v;
        }
    }

    [[noreturn]] void fail(YAML::Node const& n, std::string const& what) const
    {
        throw config_error{fmt::format("{}:{}: {}", m_file, n.Mark().line + 1, what)};
    }

private:
    std::string name(std::string const& key) const
    {
        return m_path.empty() ? key : m_path + "." + key;
    }

    // A key `k` of the mapping `key` that is none of `allowed`, with the
    // one likely meant.
    [[noreturn]] void fail_unknown(YAML::Node const& at, char const* key,
                                   std::string const& k,
                                   std::set<std::string> const& allowed) const
    {
        fail(at, fmt::format(
                     "unknown key '{}.{}'{}", name(key), k,
                     nearest_hint(k, {allowed.begin(), allowed.end()}, name(key) + ".")));
    }

    // Where a key this section does not have was likely meant, as
    // " (did you mean 'plan.times'?)": the same name in another section (a
    // key indented under the wrong one), else this section's nearest, else
    // its key of the same stem in another unit.
    std::string meant(std::string const& key) const
    {
        std::vector<std::string> elsewhere;
        for (auto const& k : config_keys()) {
            auto const dot = k.rfind('.');
            if (k.substr(dot == std::string::npos ? 0 : dot + 1) == key) {
                elsewhere.push_back(k);
            }
        }
        if (elsewhere.empty()) {
            auto const near = nearest_name(
                key, std::vector<std::string>{m_known.begin(), m_known.end()});
            if (!near.empty()) {
                elsewhere.push_back(name(near));
            }
        }
        // the same name in another unit: timeout_ms for timeout_seconds
        auto const stem = key.substr(0, key.rfind('_') + 1);
        if (elsewhere.empty() && stem.size() > 3) {
            for (auto const& k : m_known) {
                if (k.rfind(stem, 0) == 0 &&
                    k.find('_', stem.size()) == std::string::npos) {
                    elsewhere.push_back(name(k));
                    break;
                }
            }
        }
        return did_you_mean(elsewhere);
    }

    double as_number(YAML::Node const& n, char const* key) const
    {
        if (!n.IsScalar()) {
            fail(n, fmt::format("'{}' must be a number", name(key)));
        }
        try {
            return n.as<double>();
        } catch (YAML::Exception const&) {
            fail(n,
                 fmt::format("'{}' must be a number (got '{}')", name(key), n.Scalar()));
        }
    }

    std::vector<std::string> strings(YAML::Node const& n, std::string const& full,
                                     std::set<std::string> const& allowed) const
    {
        if (!n.IsSequence()) {
            fail(n, fmt::format("'{}' must be a list of strings", full));
        }
        std::vector<std::string> out;
        for (auto const& item : n) {
            if (!item.IsScalar() || item.Scalar().empty()) {
                fail(item, fmt::format("'{}' items must be non-empty strings", full));
            }
            if (!allowed.empty() && !allowed.count(item.Scalar())) {
                fail(item, fmt::format("'{}': unknown value '{}'", full, item.Scalar()));
            }
            out.push_back(item.Scalar());
        }
        return out;
    }

    std::string m_file;
    YAML::Node m_node;
    std::string m_path;
    std::set<std::string> m_known;
    std::vector<std::string>* m_keys;
};

std::map<std::string, std::vector<std::string>> const builtin_catalogue{
    {"content_slot",
     {"myth_busting", "how_to", "hot_take", "data_story", "tool_tip", "case_study"}},
    {"generator_name", {"data_nerd", "story_teller", "contrarian"}},
    {"topic", {"sql", "dashboards", "data_quality", "analytics_engineering", "metrics"}},
    {"tone", {"calm", "bold", "curious", "friendly"}},
    {"hook_type",
     {"question", "statistic", "contrarian", "story", "reveal", "statement"}},
    {"cta_type", {"engagement", "question", "none"}},
    {"decision_type", {"single", "thread"}},
};

// A template's key is a hook_type of the catalogue, or reply or thread: one
// of another name would never be used.
std::function<std::string(std::string const&)>
template_name_problem(plan_config const& plan)
{
    return [hooks = plan_catalogue(plan).at("hook_type")](std::string const& key) {
        auto const c = canonical_name(key);
        if (c == "reply" || c == "thread" ||
            std::find(hooks.begin(), hooks.end(), c) != hooks.end()) {
            return std::string{};
        }
        return fmt::format("no hook_type of that name in plan.catalogue.hook_type ({}); "
                           "templates are by hook_type, or reply or thread",
                           fmt::join(hooks, ", "));
    };
}

// A template the writer cannot fill would be posted as written, braces and
// all.
std::string template_problem(std::string const& text)
{
    static std::string const filled;
    std::string out;
    bool unknown = false;
    auto why = fill_template(
        text,
        [&unknown](std::string_view name) -> std::string const* {
            auto const* const end = std::end(template_placeholders);
            unknown = std::find(std::begin(template_placeholders), end, name) == end;
            return unknown ? nullptr : &filled;
        },
        out);
    if (unknown) {
        why +=
            fmt::format(" (they are {{{}}})", fmt::join(template_placeholders, "}, {"));
    }
    return why;
}

std::set<std::string> const dimension_names{
    "content_slot", "generator_name", "decision_type",  "topic",    "tone",
    "hook_type",    "cta_type",       "structure_type", "post_hour"};

void check_times(section& s, YAML::Node const& node,
                 std::vector<std::string> const& times)
{
    std::map<int, std::string> seen; // minute of the day: as first written
    for (std::size_t i = 0; i < times.size(); ++i) {
        auto const& t = times[i];
        auto const minute = minute_of_day(t);
        if (!minute) {
            s.fail(node[i],
                   fmt::format("'plan.times': '{}' is not a time of day (HH:MM)", t));
        }
        // A time listed twice would post once there: a day one post short of
        // the list, which is the operator's posting rate.
        if (auto const [it, fresh] = seen.emplace(*minute, t); !fresh) {
            s.fail(node[i], fmt::format("'plan.times': '{}' is listed twice (as '{}')", t,
                                        it->second));
        }
    }
}

// A catalogue's values are drawn and stored by their canonical names
// (plan_catalogue): one of which nothing is left would be dropped unsaid, and
// a decision type other than single or thread would be queued as one the
// poster does not know (replies are plan --replies').
void check_catalogue(section& s, YAML::Node const& node,
                     std::map<std::string, std::vector<std::string>> const& catalogue)
{
    if (!present(node) || !node.IsMap()) {
        return;
    }
    for (auto const& [dim, values] : catalogue) {
        auto const items = node[dim];
        for (std::size_t i = 0; i < values.size(); ++i) {
            auto const c = canonical_name(values[i]);
            if (c.empty()) {
                s.fail(items[i], fmt::format("'plan.catalogue.{}': {:?} is no name: "
                                             "nothing of it is left as a value",
                                             dim, values[i]));
            }
            if (dim == "decision_type" && c != "single" && c != "thread") {
                s.fail(items[i], fmt::format("'plan.catalogue.decision_type': '{}' is no "
                                             "decision type plan writes: single or "
                                             "thread (it queues replies with --replies)",
                                             values[i]));
            }
        }
    }
}

// Where a node was written: an alias (*a) is the node its anchor (&a) wrote,
// at the anchor's place, so a node checked once is not walked again.
using node_place = std::pair<std::size_t, int>;

// yaml-cpp keeps one of two equal keys silently: a repeated key is an error
// (the operator meant one of them), as is a key that is not a plain string.
// Each written node is walked once: nine lines of aliases of aliases (a
// "billion laughs") name 10^9 nodes, which took 31 s of CPU to walk.
void check_keys(YAML::Node const& n, std::string const& file, std::string const& path,
                std::set<node_place>& walked)
{
    if (!n.IsSequence() && !n.IsMap()) {
        return;
    }
    if (!walked
             .emplace(static_cast<std::size_t>(n.Mark().pos), static_cast<int>(n.Type()))
             .second) {
        return;
    }
    if (n.IsSequence()) {
        for (auto const& item : n) {
            check_keys(item, file, path, walked);
        }
        return;
    }
    std::set<std::string> seen;
    for (auto const& kv : n) {
        if (!kv.first.IsScalar()) {
            throw config_error{fmt::format(
                "{}:{}: a key {} is not a plain name", file, kv.first.Mark().line + 1,
                path.empty() ? std::string{"at the top level"} : "under '" + path + "'")};
        }
        auto const key = kv.first.Scalar();
        auto const full = path.empty() ? key : path + "." + key;
        if (!seen.insert(key).second) {
            throw config_error{fmt::format("{}:{}: duplicate key '{}'", file,
                                           kv.first.Mark().line + 1, full)};
        }
        check_keys(kv.second, file, full, walked);
    }
}

config parse_config_checked(std::string const& yaml_text, std::string const& name,
                            std::vector<std::string>* keys = nullptr);

} // namespace

config parse_config(std::string const& yaml_text, std::string const& name)
{
    try {
        return parse_config_checked(yaml_text, name);
    } catch (YAML::Exception const& e) {
        // anything yaml-cpp refuses while reading is still the file's fault
        throw config_error{fmt::format("{}:{}: {}", name, e.mark.line + 1, e.msg)};
    }
}

namespace {

// The posting rate the calendar can keep: each post takes one of the day's
// times, and the gap between them must leave room for every post of a day
// (either would drop posts every day, silently).
void check_posting_rate(section& p, YAML::Node const& times_node, plan_config const& plan)
{
    if (plan.posts_per_day > static_cast<int>(plan.times.size())) {
        p.fail(p.child("posts_per_day"),
               fmt::format("'plan.posts_per_day' ({}) is more than the {} daily times "
                           "of 'plan.times': list more times, or post fewer",
                           plan.posts_per_day, plan.times.size()));
    }
    auto const per_day = static_cast<std::size_t>(plan.posts_a_day());
    if (auto const fit = times_apart(plan.times, plan.min_gap_minutes); fit < per_day) {
        auto const gap_node = p.child("min_gap_minutes");
        p.fail(present(gap_node) ? gap_node : times_node,
               fmt::format("'plan.min_gap_minutes' ({}) leaves room for {} a day "
                           "at the times of 'plan.times' ({}), not {}: space the "
                           "times, lower the gap, or set 'plan.posts_per_day'",
                           plan.min_gap_minutes, counted(fit, "post", "posts"),
                           fmt::join(plan.times, ", "), per_day));
    }
}

// yaml-cpp says "illegal map value" for a tab in the indentation, a mistake
// an editor makes invisibly: the first line up to the error's (or the one
// after, where yaml-cpp may place it) indented with a tab, named.
std::string tab_indent_hint(std::string_view yaml_text, int error_line)
{
    int line = 1;
    for (std::size_t at = 0; at < yaml_text.size() && line <= error_line + 1; ++line) {
        auto const end = std::min(yaml_text.find('\n', at), yaml_text.size());
        auto const text = yaml_text.substr(at, end - at);
        auto const indent = text.substr(0, text.find_first_not_of(" \t"));
        if (indent.find('\t') != std::string_view::npos) {
            return fmt::format(" (line {} is indented with a tab: YAML indents with "
                               "spaces only)",
                               line);
        }
        at = end + 1;
    }
    return "";
}

// Long on purpose: the list of every key, its type and its range, in the
// file's order: the one place the config's schema is written (config_keys()
// and the generated example read it from here).
config parse_config_checked(std::string const& yaml_text, std::string const& name,
                            std::vector<std::string>* keys)
{
    config cfg;
    cfg.source_file = name;
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (YAML::DeepRecursion const& e) {
        // yaml-cpp says "bad file" for it
        throw config_error{fmt::format("{}:{}: not valid YAML: lists or mappings nested "
                                       "deeper than the parser takes",
                                       name, e.mark.line + 1)};
    } catch (YAML::Exception const& e) {
        throw config_error{fmt::format("{}:{}: not valid YAML: {}{}", name,
                                       e.mark.line + 1, e.msg,
                                       tab_indent_hint(yaml_text, e.mark.line + 1))};
    }
    if (!root || root.IsNull()) {
        return cfg;
    }
    std::set<node_place> walked;
    check_keys(root, name, "", walked);
    section top{name, root, "", keys};
    {
        auto m = top.sub("metrics");
        m.text_list(
            "engagement_fields", cfg.metrics.engagement_fields,
            {"likes", "retweets", "replies", "quotes", "bookmarks", "profile_clicks"});
        m.number("attribution_window_hours", cfg.metrics.attribution_window_hours, 1,
                 168);
        m.number("attribution_half_life_hours", cfg.metrics.attribution_half_life_hours,
                 0, 168);
        m.boolean("fit_reach", cfg.metrics.fit_reach);
        m.number_list("due_ages_hours", cfg.metrics.due_ages_hours, 0.1, 24 * 30);
        m.number("max_age_days", cfg.metrics.max_age_days, 1, 365);
        m.integer("max_posts", cfg.metrics.max_posts, 1, 1000000);
        m.integer("batch_size", cfg.metrics.batch_size, 1, 100);
        m.number("max_clock_skew_minutes", cfg.metrics.max_clock_skew_minutes, 0,
                 24 * 60);
        auto s = m.sub("score");
        s.number("er_weight", cfg.metrics.score.er_weight, 0, 1);
        s.number("follow_weight", cfg.metrics.score.follow_weight, 0, 1);
        s.number("follow_slope", cfg.metrics.score.follow_slope, 1e-6, 100);
        s.number("follow_midpoint", cfg.metrics.score.follow_midpoint, -1e6, 1e6);
    }
    {
        auto x = top.sub("x_api");
        x.url("base_url", cfg.x_api.base_url);
        // a typo of X's https:// would send the token before X says no
        if (auto const host = cleartext_host(cfg.x_api.base_url)) {
            x.fail(x.child("base_url"),
                   fmt::format("'x_api.base_url' is plain http:// to {}: the X "
                               "credentials would cross the network unencrypted; X "
                               "answers on https://api.x.com (http:// is for a "
                               "stand-in on this machine, 127.0.0.1)",
                               *host));
        }
        x.text("auth", cfg.x_api.auth, {"bearer", "oauth1"});
        x.name_text("token_env", cfg.x_api.token_env);
        x.name_text("consumer_key_env", cfg.x_api.consumer_key_env);
        x.name_text("consumer_secret_env", cfg.x_api.consumer_secret_env);
        x.name_text("access_token_env", cfg.x_api.access_token_env);
        x.name_text("access_token_secret_env", cfg.x_api.access_token_secret_env);
        x.integer("timeout_ms", cfg.x_api.timeout_ms, 100, 600000);
        x.integer("retries", cfg.x_api.retries, 0, 10);
        x.integer("backoff_ms", cfg.x_api.backoff_ms, 0, 60000);
        x.handle("username", cfg.x_api.username);
        x.boolean("non_public_metrics", cfg.x_api.non_public_metrics);
        x.integer("followers_every_minutes", cfg.x_api.followers_every_minutes, 0,
                  24 * 60);
    }
    {
        auto w = top.sub("weights");
        w.number("window_days", cfg.weights.window_days, 1, 3650);
        w.integer("window_posts", cfg.weights.window_posts, 0, 1000000);
        w.number("max_window_days", cfg.weights.max_window_days, 1, 3650);
        w.number("half_life_days", cfg.weights.half_life_days, 0.1, 3650);
        w.number("change_window_days", cfg.weights.change_window_days, 0, 3650);
        w.number("min_age_hours", cfg.weights.min_age_hours, 0, 24 * 30);
        w.number("kappa", cfg.weights.kappa, 0, 1000);
        w.number("epsilon", cfg.weights.epsilon, 0, 1);
        w.number("epsilon_decay_posts", cfg.weights.epsilon_decay_posts, 0, 1000000);
        w.number_map("target", cfg.weights.target,
                     {"engagement_rate", "reach", "profile_clicks", "follows",
                      "attributed_follows", "primary_objective_score"},
                     0, 100);
        // a target of nothing would leave every post out: "skipped: 0 rows"
        // on a database full of them
        if (std::all_of(cfg.weights.target.begin(), cfg.weights.target.end(),
                        [](auto const& kv) { return kv.second == 0; })) {
            w.fail(w.child("target"),
                   "'weights.target': every component's weight is 0, so the learners "
                   "would learn from nothing: give one a weight above 0");
        }
        w.integer("min_posts", cfg.weights.min_posts, 1, 1000000);
        w.time_zone("timezone", cfg.weights.timezone, cfg.places);
        w.text_list("dimensions", cfg.weights.dimensions, dimension_names);
    }
    {
        auto r = top.sub("replies");
        r.number("window_days", cfg.replies.window_days, 1, 3650);
        r.number("half_life_days", cfg.replies.half_life_days, 0.1, 3650);
        r.number("min_age_hours", cfg.replies.min_age_hours, 0, 24 * 30);
        r.number("kappa", cfg.replies.kappa, 0, 1000);
    }
    {
        auto p = top.sub("plan");
        p.integer("queue_ahead", cfg.plan.queue_ahead, 0, 1000);
        p.number("epsilon", cfg.plan.epsilon, 0, 1);
        p.number("posterior_scale", cfg.plan.posterior_scale, 0.01, 10);
        p.time_zone("timezone", cfg.plan.timezone, cfg.places);
        auto const times_node = p.child("times");
        p.text_list("times", cfg.plan.times, {}, false, false); // check_times says more
        check_times(p, times_node, cfg.plan.times);
        p.integer("min_gap_minutes", cfg.plan.min_gap_minutes, 0, 24 * 60);
        p.text("time_choice", cfg.plan.time_choice, {"drawn", "next"});
        p.integer("posts_per_day", cfg.plan.posts_per_day, 0, 96);
        check_posting_rate(p, times_node, cfg.plan);
        p.boolean("no_repeat_slot", cfg.plan.no_repeat_slot);
        p.number("reply_max_age_hours", cfg.plan.reply_max_age_hours, 0.1, 24 * 30);
        p.number("reply_author_cooldown_hours", cfg.plan.reply_author_cooldown_hours, 0,
                 24 * 365);
        p.integer("thread_min_parts", cfg.plan.thread_min_parts, 2, 25);
        p.integer("thread_max_parts", cfg.plan.thread_max_parts, 2, 25);
        p.list_map("catalogue", cfg.plan.catalogue,
                   {"content_slot", "generator_name", "topic", "tone", "hook_type",
                    "cta_type", "decision_type"});
        check_catalogue(p, p.child("catalogue"), cfg.plan.catalogue);
        p.list_map("templates", cfg.plan.templates, {}, template_name_problem(cfg.plan),
                   template_problem);
        auto w = p.sub("writer");
        w.text("kind", cfg.plan.writer.kind, {"template", "command", "openai"});
        w.text_list("command", cfg.plan.writer.command, {}, true, false); // argv
        w.integer("timeout_ms", cfg.plan.writer.timeout_ms, 100, 600000);
        w.url("base_url", cfg.plan.writer.base_url);
        w.name_text("model", cfg.plan.writer.model);
        w.name_text("key_env", cfg.plan.writer.key_env);
        w.integer("retries", cfg.plan.writer.retries, 0, 10);
        w.integer("max_tries", cfg.plan.writer.max_tries, 1, 100);
        w.integer("backoff_ms", cfg.plan.writer.backoff_ms, 0, 60000);
        if (cfg.plan.thread_min_parts > cfg.plan.thread_max_parts) {
            p.fail(p.child("thread_min_parts"),
                   "'plan.thread_min_parts' must not exceed 'plan.thread_max_parts'");
        }
    }
    {
        auto d = top.sub("database");
        d.number("statement_timeout_minutes", cfg.database.statement_timeout_minutes, 0,
                 24 * 60);
        d.number("idle_in_transaction_timeout_minutes",
                 cfg.database.idle_in_transaction_timeout_minutes, 0, 24 * 60);
        d.number("lock_timeout_minutes", cfg.database.lock_timeout_minutes, 0, 24 * 60);
    }
    {
        auto l = top.sub("ledger");
        l.number("stale_hours", cfg.ledger.stale_hours, 0.1, 24 * 365);
        l.number("lease_minutes", cfg.ledger.lease_minutes, 1, 24 * 60);
        l.number("keep_days", cfg.ledger.keep_days, 0, 3650);
        l.number("reconnect_seconds", cfg.ledger.reconnect_seconds, 0, 600);
    }
    {
        auto v = top.sub("validate");
        v.integer("days", cfg.validate.days, 1, 365);
        v.number("min_v2_coverage", cfg.validate.min_v2_coverage, 0, 1);
        v.number("min_slot_coverage", cfg.validate.min_slot_coverage, 0, 1);
        v.number("max_map_age_hours", cfg.validate.max_map_age_hours, 0.1, 24 * 365);
        v.number("max_queue_delay_hours", cfg.validate.max_queue_delay_hours, 0.1,
                 24 * 365);
        v.number("max_unmeasured_hours", cfg.validate.max_unmeasured_hours, 0.1,
                 24 * 365);
        v.number("max_opportunity_age_hours", cfg.validate.max_opportunity_age_hours, 0.1,
                 24 * 365);
        v.number("max_idle_transaction_minutes",
                 cfg.validate.max_idle_transaction_minutes, 0.01, 24 * 60 * 7);
        v.integer("min_map_sample", cfg.validate.min_map_sample, 1, 1000000);
        v.number("min_priority_coverage", cfg.validate.min_priority_coverage, 0, 1);
        v.integer("min_policy_posts", cfg.validate.min_policy_posts, 1, 1000000);
        v.number("min_effective_posts", cfg.validate.min_effective_posts, 1, 1000000);
        v.integer("max_policy_posts", cfg.validate.max_policy_posts, 1, 1000000);
        v.number_map(
            "job_interval_minutes", cfg.validate.job_interval_minutes,
            {"scrape-metrics", "learn-replies", "build-weights", "plan", "plan-replies"},
            1, 60 * 24 * 30);
    }
    return cfg;
}

} // namespace

std::optional<int> minute_of_day(std::string const& time)
{
    // H:MM or HH:MM, digits only: sscanf's %d took '13:5' as 13:05, and signs
    // and blanks
    auto const colon = time.find(':');
    auto const digits = [](std::string_view v) {
        return !v.empty() && std::all_of(v.begin(), v.end(),
                                         [](char c) { return c >= '0' && c <= '9'; });
    };
    if (colon == std::string::npos || colon < 1 || colon > 2 ||
        time.size() != colon + 3 || !digits(std::string_view{time}.substr(0, colon)) ||
        !digits(std::string_view{time}.substr(colon + 1))) {
        return std::nullopt;
    }
    int const h = std::stoi(time.substr(0, colon));
    int const m = std::stoi(time.substr(colon + 1));
    if (h > 23 || m > 59) {
        return std::nullopt;
    }
    return h * 60 + m;
}

// Earliest first is optimal: each time taken leaves the most room after it.
std::size_t times_apart(std::vector<std::string> const& times, int gap)
{
    std::vector<int> minutes;
    for (auto const& t : times) {
        minutes.push_back(minute_of_day(t).value_or(0)); // checked by check_times
    }
    std::sort(minutes.begin(), minutes.end());
    // Days follow each other: the last post of a day must leave the gap
    // before the first of the next ('23:30' and '00:30' are an hour apart).
    // Greedy from each time as the day's first, taking every time the gap
    // after the one before and the gap before the first's next occurrence.
    std::size_t best = 0;
    auto const count = minutes.size();
    for (std::size_t first = 0; first < count; ++first) {
        int const start = minutes[first];
        std::size_t n = 1;
        int last = start;
        for (std::size_t i = 1; i < count; ++i) {
            auto const j = (first + i) % count;
            int const m = minutes[j] + (j < first ? 24 * 60 : 0);
            if (m - last >= gap && start + 24 * 60 - m >= gap) {
                ++n;
                last = m;
            }
        }
        best = std::max(best, n);
    }
    return best;
}

std::vector<std::string> config_keys()
{
    std::vector<std::string> keys;
    parse_config_checked("{}", "(keys)", &keys);
    return keys;
}

config load_config(std::optional<std::string> const& path)
{
    if (!path || path->empty()) {
        return config{};
    }
    std::error_code ec;
    if (std::filesystem::is_directory(*path, ec)) {
        throw config_error{fmt::format("config file '{}' is a directory", *path)};
    }
    errno = 0;
    std::ifstream in{*path};
    if (!in) {
        // open(2)'s reason: a missing file and a file the job's user may not
        // read (0640 root:xloop, the user not in the group) are fixed apart
        throw config_error{fmt::format("cannot read config file '{}'{}", *path,
                                       errno ? fmt::format(": {}", std::strerror(errno))
                                             : std::string{})};
    }
    // A config is a few KB: past a MiB it is some other file (a log, a dump,
    // /dev/zero), which read whole would take all the memory there is.
    constexpr std::size_t max_bytes = std::size_t{1} << 20;
    std::string text(max_bytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes) {
        throw config_error{fmt::format(
            "config file '{}' is larger than 1 MiB: not a config file", *path)};
    }
    return parse_config(text, *path);
}

std::map<std::string, std::vector<std::string>> plan_catalogue(plan_config const& cfg)
{
    auto out = builtin_catalogue;
    for (auto const& [dim, values] : cfg.catalogue) {
        std::vector<std::string> canon;
        for (auto const& v : values) {
            auto const c = canonical_name(v);
            if (!c.empty() && std::find(canon.begin(), canon.end(), c) == canon.end()) {
                canon.push_back(c);
            }
        }
        if (!canon.empty()) {
            out[dim] = canon;
        }
    }
    return out;
}

std::string key_place(config const& cfg, std::string const& key)
{
    auto const it = cfg.places.find(key);
    return it != cfg.places.end() ? it->second : fmt::format("'{}'", key);
}

std::string post_hour_zone(config const& cfg)
{
    return cfg.weights.timezone.empty() ? cfg.plan.timezone : cfg.weights.timezone;
}

std::string post_hour_zone_warning(config const& cfg)
{
    // PostgreSQL takes zone names in any case
    if (cfg.weights.timezone.empty() ||
        to_lower(cfg.weights.timezone) == to_lower(cfg.plan.timezone)) {
        return {};
    }
    return fmt::format(
        "weights.timezone ({}) is not plan.timezone ({}): post_hour is learned in {} "
        "hours, but plan draws a post's time by its {} hour, so it finds no evidence "
        "for its times (or another hour's); remove weights.timezone to learn in "
        "plan.timezone",
        cfg.weights.timezone, cfg.plan.timezone, cfg.weights.timezone, cfg.plan.timezone);
}

std::vector<std::string> secret_variables(config const& cfg)
{
    auto const& x = cfg.x_api;
    return {"DATABASE_URL",           "PGPASSWORD",          x.token_env,
            x.consumer_key_env,       x.consumer_secret_env, x.access_token_env,
            x.access_token_secret_env};
}

std::string secret_from_env(char const* key, std::string const& variable,
                            char const* holds)
{
    char const* v = std::getenv(variable.c_str());
    if (!v || !*v) {
        throw config_error{
            fmt::format("{}: the environment variable {} is {} (it must hold {})", key,
                        variable, v ? "empty" : "not set", holds)};
    }
    // No key or token holds a space, a quote mark or a control character: one
    // there came with it (a file with Windows line endings, a paste, quotes an
    // env file reader kept as text), and sent in a header it would be refused
    // as a wrong key. Said by kind and place, never by value.
    std::string_view const value{v};
    auto const odd = std::find_if(value.begin(), value.end(), [](char c) {
        return c == ' ' || c == '"' || c == '\'' || is_control_char(c);
    });
    if (odd != value.end()) {
        auto const at = static_cast<std::size_t>(odd - value.begin());
        auto const what = *odd == '\r'   ? "a carriage return (a file with Windows line "
                                           "endings?)"
                          : *odd == '\n' ? "a line break"
                          : *odd == ' '  ? "a space"
                          : *odd == '\t' ? "a tab"
                          : *odd == '"' || *odd == '\''
                              ? "a quote mark (quotes around the value in its file, "
                                "kept as part of it?)"
                              : "a control character";
        auto const where = at == 0                  ? "at its start"
                           : at + 1 == value.size() ? "at its end"
                                                    : "inside it";
        // "Bearer AAAA…" pasted whole from a curl example: the header's word
        bool const scheme_word = to_lower(value.substr(0, 7)) == "bearer ";
        throw config_error{fmt::format(
            "{}: the environment variable {} holds {} {}: {} never does; remove {}", key,
            variable, what, where, holds,
            scheme_word ? "the word 'Bearer ' before it (the tools write it themselves)"
                        : "it")};
    }
    return v;
}

} // namespace xloop
