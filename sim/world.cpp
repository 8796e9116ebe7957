#include "world.hpp"

#include "config.hpp"
#include "error.hpp"
#include "nearest.hpp"
#include "plan_job.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>

namespace xloop::sim {

namespace {

// Reads a world file; every error names file:line and the key.
class reader {
public:
    explicit reader(std::string file) : m_file(std::move(file)) {}

    [[noreturn]] void fail(YAML::Node const& n, std::string const& what) const
    {
        throw config_error{fmt::format("{}:{}: {}", m_file, n.Mark().line + 1, what)};
    }

    // Calls `f(key, value)` for each entry of a mapping, refusing keys not in
    // `known` (when given): a typo must not mean "no effect".
    void each(YAML::Node const& map, std::string const& path,
              std::function<void(std::string const&, YAML::Node const&)> const& f,
              std::set<std::string> const& known = {}) const
    {
        if (!map.IsMap()) {
            fail(map, fmt::format("'{}' must be a mapping", path));
        }
        for (auto const& kv : map) {
            if (!kv.first.IsScalar()) {
                fail(kv.first, fmt::format("'{}': keys must be scalars", path));
            }
            auto const key = kv.first.as<std::string>();
            if (!known.empty() && !known.count(key)) {
                auto const prefix = path.empty() ? std::string{} : path + ".";
                fail(kv.first, fmt::format("unknown key '{}{}'{}", prefix, key,
                                           nearest_hint(key, {known.begin(), known.end()},
                                                        prefix)));
            }
            m_key_line = kv.first.Mark().line + 1;
            f(key, kv.second);
        }
    }

    // The line of the key `each` last passed on.
    int key_line() const { return m_key_line; }

    double number(YAML::Node const& n, std::string const& key, double lo, double hi) const
    {
        double v = 0;
        if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v)) {
            fail(n, fmt::format("'{}' must be a number", key));
        }
        if (v < lo || v > hi) {
            fail(n, fmt::format("'{}' must be in [{}, {}], not {}", key, lo, hi, v));
        }
        return v;
    }

    int integer(YAML::Node const& n, std::string const& key, int lo, int hi) const
    {
        auto const v = number(n, key, lo, hi);
        if (v != std::floor(v)) {
            fail(n, fmt::format("'{}' must be an integer, not {}", key, v));
        }
        return static_cast<int>(v);
    }

    std::string text(YAML::Node const& n, std::string const& key) const
    {
        if (!n.IsScalar()) {
            fail(n, fmt::format("'{}' must be a string", key));
        }
        return n.as<std::string>();
    }

    // A mapping of named numbers in [lo, hi] into the fields given; any
    // other key is an error.
    void numbers(YAML::Node const& n, std::string const& path, double lo, double hi,
                 std::map<std::string, double*> const& fields) const
    {
        std::set<std::string> known;
        for (auto const& [k, f] : fields) {
            known.insert(k);
        }
        each(
            n, path,
            [&](std::string const& k, YAML::Node const& v) {
                *fields.at(k) = number(v, path + "." + k, lo, hi);
            },
            known);
    }

    effect read_effect(YAML::Node const& n, std::string const& path) const
    {
        effect e;
        numbers(n, path, 0.05, 20,
                {{"reach", &e.reach},
                 {"engagement", &e.engagement},
                 {"follows", &e.follows}});
        return e;
    }

    effects_map read_effects(YAML::Node const& n, std::string const& path,
                             std::map<std::string, std::vector<std::string>> const& cat,
                             std::map<std::string, int>& lines) const
    {
        effects_map out;
        each(n, path, [&](std::string const& dim, YAML::Node const& values) {
            auto const c = cat.find(dim);
            if (c == cat.end()) {
                std::vector<std::string> dims;
                for (auto const& [d, _] : cat) {
                    dims.push_back(d);
                }
                fail(values, fmt::format("'{}.{}': not a dimension the planner draws{}",
                                         path, dim, nearest_hint(dim, dims)));
            }
            lines[dim] = key_line();
            each(values, path + "." + dim,
                 [&](std::string const& v, YAML::Node const& e) {
                     if (std::find(c->second.begin(), c->second.end(), v) ==
                         c->second.end()) {
                         fail(e, fmt::format("'{}.{}.{}': not a value plan draws{}", path,
                                             dim, v, nearest_hint(v, c->second)));
                     }
                     out[dim][v] = read_effect(e, path + "." + dim + "." + v);
                 });
        });
        return out;
    }

    std::string const& file() const { return m_file; }

private:
    std::string m_file;
    mutable int m_key_line = 0;
};

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    auto const n = v.size();
    return n == 0 ? 1.0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// "No value worth more than 2× the median of its dimension", per channel and
// for follows (reach × follows per impression).
void check_plausible(std::string const& file, int line, std::string const& dim,
                     std::vector<effect> const& values)
{
    using get = double (*)(effect const&);
    std::pair<char const*, get> const channels[] = {
        {"reach", [](effect const& e) { return e.reach; }},
        {"engagement", [](effect const& e) { return e.engagement; }},
        {"follows", [](effect const& e) { return e.reach * e.follows; }}};
    for (auto const& [name, f] : channels) {
        std::vector<double> xs;
        for (auto const& e : values) {
            xs.push_back(f(e));
        }
        auto const m = median(xs);
        auto const top = *std::max_element(xs.begin(), xs.end());
        if (top > 2 * m + 1e-9) {
            throw config_error{fmt::format(
                "{}:{}: '{}': a value's {} effect is {:.2f}, more than 2x the "
                "dimension's median ({:.2f}): implausible on X",
                file, line, dim, name, top, m)};
        }
    }
}

void check_effects(std::string const& file, effects_map const& effects,
                   std::map<std::string, std::vector<std::string>> const& cat,
                   std::map<std::string, int> const& lines)
{
    for (auto const& [dim, values] : effects) {
        std::vector<effect> all;
        for (auto const& v : cat.at(dim)) {
            auto const it = values.find(v);
            all.push_back(it == values.end() ? effect{} : it->second);
        }
        check_plausible(file, lines.at(dim), dim, all);
    }
}

double follows_factor(effect const& e)
{
    return e.reach * e.follows;
}

effect effect_of(effects_map const& m, std::string const& dim, std::string const& value)
{
    auto const d = m.find(dim);
    if (d == m.end()) {
        return {};
    }
    auto const v = d->second.find(value);
    return v == d->second.end() ? effect{} : v->second;
}

double lognormal(double sigma, double z)
{
    return std::exp(sigma * z - sigma * sigma / 2); // mean 1
}

} // namespace

double grown_share(world_spec const& w, double age_hours, bool follows)
{
    if (age_hours <= 0) {
        return 0;
    }
    if (w.half_life_hours > 0) {
        return 1 - std::exp2(-age_hours / w.half_life_hours);
    }
    return follows ? std::min(1.0, age_hours / 24) : 1 - std::exp(-age_hours / 8);
}

std::string posted_hour(world_spec const& w, std::string const& time)
{
    int minute = *minute_of_day(time);
    if (auto const p = w.poster_every_minutes; p > 0) {
        minute = (minute + p - 1) / p * p;
    }
    return fmt::format("{:02d}", minute / 60 % 24);
}

std::map<std::string, std::vector<std::string>> world_catalogue(world_spec const& w)
{
    auto out = plan_catalogue(plan_config{});
    auto& hours = out["post_hour"];
    for (auto const& t : w.times) {
        if (auto const h = posted_hour(w, t);
            std::find(hours.begin(), hours.end(), h) == hours.end()) {
            hours.push_back(h);
        }
    }
    return out;
}

namespace {

YAML::Node read_yaml(std::filesystem::path const& path)
{
    std::string const file = path.string();
    std::ifstream in{path};
    if (!in || std::filesystem::is_directory(path)) {
        throw config_error{fmt::format("{}: cannot read the world file", file)};
    }
    try {
        return YAML::Load(in);
    } catch (YAML::Exception const& e) {
        throw config_error{fmt::format("{}:{}: {}", file, e.mark.line + 1, e.msg)};
    }
}

std::vector<std::string> read_times(reader const& r, YAML::Node const& v)
{
    if (!v.IsSequence() || v.size() == 0) {
        r.fail(v, "'times' must be a non-empty list of \"HH:MM\"");
    }
    std::vector<std::string> out;
    for (auto const& t : v) {
        auto const s = r.text(t, "times");
        if (s.size() != 5 || !minute_of_day(s)) {
            r.fail(t, fmt::format("'times': '{}' is not \"HH:MM\"", s));
        }
        out.push_back(s);
    }
    return out;
}

void read_replies(reader const& r, YAML::Node const& v, world_spec& w)
{
    r.each(v, "replies",
           [&](std::string const& b, YAML::Node const& x) {
               auto const key = "replies." + b;
               if (b == "accounts") {
                   w.accounts = r.integer(x, key, 1, 100000);
               } else if (b == "opportunities_per_hour") {
                   w.opportunities_per_hour = r.integer(x, key, 0, 1000);
               } else if (b == "effects") {
                   r.each(x, key, [&](std::string const& a, YAML::Node const& e) {
                       w.account_effects[a] = r.read_effect(e, key + "." + a);
                   });
               } else {
                   *std::map<std::string, double*>{
                       {"impressions", &w.reply_impressions},
                       {"engagement_rate", &w.reply_engagement_rate},
                       {"follows_per_1000", &w.reply_follows_per_1000}}
                        .at(b) = r.number(x, key, 0, 1e7);
               }
           },
           {"impressions", "engagement_rate", "follows_per_1000", "accounts",
            "opportunities_per_hour", "effects"});
}

// The effects from `change.day` on: the first effects with the dimensions
// the change names replaced.
void read_change(reader const& r, YAML::Node const& v,
                 std::map<std::string, std::vector<std::string>> const& cat,
                 world_spec& w)
{
    std::optional<YAML::Node> after;
    r.each(v, "change",
           [&](std::string const& k, YAML::Node const& x) {
               if (k == "day") {
                   w.change_day = r.integer(x, "change.day", 0, 3650);
               } else {
                   after = x;
               }
           },
           {"day", "effects"});
    if (!w.change_day || !after) {
        r.fail(v, "'change' needs both 'day' and 'effects'");
    }
    std::map<std::string, int> lines;
    auto changed = r.read_effects(*after, "change.effects", cat, lines);
    check_effects(r.file(), changed, cat, lines);
    w.effects_after_change = w.effects;
    for (auto& [dim, values] : changed) {
        w.effects_after_change[dim] = std::move(values);
    }
}

// Accounts: the same plausibility as a dimension's values, over every account.
void check_accounts(std::string const& file, world_spec const& w)
{
    std::vector<effect> accounts(static_cast<std::size_t>(w.accounts));
    for (auto const& [a, e] : w.account_effects) {
        auto const n = a.rfind("account_", 0) == 0 ? std::atoi(a.c_str() + 8) : 0;
        if (n < 1 || n > w.accounts) {
            throw config_error{fmt::format(
                "{}: 'replies.effects.{}': accounts are account_1 … account_{}", file, a,
                w.accounts)};
        }
        accounts[static_cast<std::size_t>(n - 1)] = e;
    }
    check_plausible(file, 1, "replies.effects", accounts);
}

// The planner must be able to keep the world's rate with its times.
void check_rate(std::string const& file, world_spec const& w)
{
    if (static_cast<std::size_t>(w.posts_per_day) > w.times.size()) {
        throw config_error{fmt::format("{}: posts_per_day ({}) is more than the {} times",
                                       file, w.posts_per_day, w.times.size())};
    }
    if (auto const fit = times_apart(w.times, sim_min_gap_minutes);
        fit < static_cast<std::size_t>(w.posts_per_day)) {
        throw config_error{fmt::format(
            "{}: posts_per_day ({}) needs that many times {} minutes apart (the "
            "simulator's plan.min_gap_minutes); these times give {}",
            file, w.posts_per_day, sim_min_gap_minutes, fit)};
    }
}

} // namespace

world_spec load_world(std::filesystem::path const& path)
{
    auto const root = read_yaml(path);
    reader r{path.string()};
    world_spec w;
    w.name = path.stem().string();
    // Effects are read after the times: the catalogue they are checked
    // against has the world's hours.
    std::optional<YAML::Node> effects_node, change_node;
    r.each(root, "",
           [&](std::string const& k, YAML::Node const& v) {
               if (k == "name") {
                   w.name = r.text(v, k);
               } else if (k == "description") {
                   w.description = r.text(v, k);
               } else if (k == "posts_per_day") {
                   w.posts_per_day = r.integer(v, k, 1, 24);
               } else if (k == "replies_per_day") {
                   w.replies_per_day = r.integer(v, k, 0, 24);
               } else if (k == "times") {
                   w.times = read_times(r, v);
               } else if (k == "base") {
                   r.numbers(v, k, 0, 1e7,
                             {{"impressions", &w.impressions},
                              {"engagement_rate", &w.engagement_rate},
                              {"follows_per_1000", &w.follows_per_1000}});
               } else if (k == "noise") {
                   r.numbers(v, k, 0, 3,
                             {{"reach_sigma", &w.reach_sigma},
                              {"engagement_sigma", &w.engagement_sigma},
                              {"follows_sigma", &w.follows_sigma}});
               } else if (k == "account") {
                   r.numbers(v, k, -1e6, 1e9,
                             {{"followers", &w.followers},
                              {"drift_per_day", &w.drift_per_day},
                              {"drift_sd_per_day", &w.drift_sd_per_day}});
               } else if (k == "replies") {
                   read_replies(r, v, w);
               } else if (k == "poster_every_minutes") {
                   w.poster_every_minutes = r.integer(v, k, 0, 60);
                   if (w.poster_every_minutes > 0 && 60 % w.poster_every_minutes != 0) {
                       r.fail(v, fmt::format("'poster_every_minutes' must divide 60, "
                                             "not {}",
                                             w.poster_every_minutes));
                   }
               } else if (k == "half_life_hours") {
                   w.half_life_hours = r.number(v, k, 0.1, 240);
               } else if (k == "effects") {
                   effects_node = v;
               } else if (k == "change") {
                   change_node = v;
               }
           },
           {"name", "description", "posts_per_day", "replies_per_day", "times", "base",
            "noise", "account", "replies", "poster_every_minutes", "half_life_hours",
            "effects", "change"});

    auto const cat = world_catalogue(w);
    if (effects_node) {
        std::map<std::string, int> lines;
        w.effects = r.read_effects(*effects_node, "effects", cat, lines);
        check_effects(r.file(), w.effects, cat, lines);
    }
    if (change_node) {
        read_change(r, *change_node, cat, w);
    }
    check_accounts(r.file(), w);
    check_rate(r.file(), w);
    return w;
}

effects_map const& effects_on(world_spec const& w, double day)
{
    return w.change_day && day >= *w.change_day ? w.effects_after_change : w.effects;
}

expectation expected_post(world_spec const& w, attributes const& a, double day)
{
    auto const& effects = effects_on(w, day);
    double reach = 1, engagement = 1, follows = 1;
    for (auto const& [dim, value] : a) {
        auto const e = effect_of(effects, dim, value);
        reach *= e.reach;
        engagement *= e.engagement;
        follows *= e.follows;
    }
    double const imp = w.impressions * reach;
    return {imp, w.engagement_rate * engagement,
            imp / 1000 * w.follows_per_1000 * follows};
}

expectation expected_reply(world_spec const& w, std::string const& account)
{
    auto const it = w.account_effects.find(account);
    effect const e = it == w.account_effects.end() ? effect{} : it->second;
    double const imp = w.reply_impressions * e.reach;
    return {imp, w.reply_engagement_rate * e.engagement,
            imp / 1000 * w.reply_follows_per_1000 * e.follows};
}

expectation realised(world_spec const& w, expectation const& e, std::uint64_t seed,
                     std::string const& tweet_id)
{
    double const reach = lognormal(w.reach_sigma, hash_normal(seed, tweet_id, 'r'));
    return {e.impressions * reach,
            e.engagement_rate *
                lognormal(w.engagement_sigma, hash_normal(seed, tweet_id, 'e')),
            e.follows * reach *
                lognormal(w.follows_sigma, hash_normal(seed, tweet_id, 'f'))};
}

double drift(world_spec const& w, std::uint64_t seed, double days)
{
    double total = 0;
    for (int d = 0; d < days; ++d) {
        double const step =
            w.drift_per_day +
            w.drift_sd_per_day * hash_normal(seed, std::to_string(d), 'd');
        total += step * std::min(1.0, days - d);
    }
    return total;
}

namespace {

double base_follows(world_spec const& w)
{
    return w.impressions / 1000 * w.follows_per_1000;
}

} // namespace

double uniform_follows(world_spec const& w, double day)
{
    auto const& effects = effects_on(w, day);
    double f = base_follows(w);
    for (auto const& [dim, values] : world_catalogue(w)) {
        double sum = 0;
        for (auto const& v : values) {
            sum += follows_factor(effect_of(effects, dim, v));
        }
        f *= sum / static_cast<double>(values.size());
    }
    return f;
}

double oracle_follows(world_spec const& w, double day)
{
    auto const& effects = effects_on(w, day);
    double f = base_follows(w);
    for (auto const& [dim, values] : world_catalogue(w)) {
        std::vector<double> xs;
        for (auto const& v : values) {
            xs.push_back(follows_factor(effect_of(effects, dim, v)));
        }
        std::sort(xs.begin(), xs.end(), std::greater<>{});
        // One best value of each dimension; a day's posts take its best
        // posts_per_day times.
        auto const k =
            dim == "post_hour" ? std::min<std::size_t>(xs.size(), w.posts_per_day) : 1;
        double sum = 0;
        for (std::size_t i = 0; i < k; ++i) {
            sum += xs[i];
        }
        f *= sum / static_cast<double>(k);
    }
    return f;
}

double follows_factor(world_spec const& w, std::string const& dim,
                      std::string const& value, double day)
{
    return follows_factor(effect_of(effects_on(w, day), dim, value));
}

std::map<std::string, std::string> best_values(world_spec const& w, double day)
{
    auto const& effects = effects_on(w, day);
    std::map<std::string, std::string> out;
    for (auto const& [dim, values] : world_catalogue(w)) {
        double top = -1;
        for (auto const& v : values) {
            auto const f = follows_factor(effect_of(effects, dim, v));
            if (f > top + 1e-12) {
                top = f;
                out[dim] = v;
            }
        }
    }
    return out;
}

double hash_uniform(std::uint64_t seed, std::string const& key, char salt)
{
    std::uint64_t h = 1469598103934665603ULL ^ seed;
    for (char c : key) {
        h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    h = (h ^ static_cast<unsigned char>(salt)) * 1099511628211ULL;
    h ^= h >> 33; // FNV's low bits are weak
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (static_cast<double>(h >> 11) + 0.5) / 9007199254740992.0; // (0, 1)
}

double hash_normal(std::uint64_t seed, std::string const& key, char salt)
{
    // Box–Muller over two uniforms of the same key.
    double const u1 = hash_uniform(seed, key, salt);
    double const u2 = hash_uniform(seed, key, static_cast<char>(salt ^ 0x55));
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
}

} // namespace xloop::sim
