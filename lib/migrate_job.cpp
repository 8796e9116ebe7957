#include "migrate_job.hpp"

#include "app.hpp"
#include "log.hpp"
#include "migrations.hpp"
#include "text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

namespace xloop {

namespace {

void print_status(run_context& run, std::vector<migration> const& all, bool check)
{
    auto const rows = read_status(run.db(), all);
    int pending = 0;
    int edited = 0;
    int unknown = 0;
    auto& list = run.summary()["migrations"] = nlohmann::json::array();
    for (auto const& s : rows) {
        pending += s.state == migration_state::pending;
        edited += s.state == migration_state::edited;
        unknown += s.state == migration_state::unknown;
        list.push_back({{"version", s.version},
                        {"name", s.name},
                        {"state", to_string(s.state)},
                        {"applied_at", s.applied_at ? *s.applied_at : ""},
                        {"out_of_order", s.out_of_order}});
        // -q (the daily check's timer): only the rows to act on, so a healthy
        // day's journal holds none
        if (!run.options().json &&
            !(run.options().quiet && s.state == migration_state::applied)) {
            std::cout << fmt::format("{:04d}  {:<32} {:<8} {}{}\n", s.version, s.name,
                                     to_string(s.state), s.applied_at.value_or(""),
                                     s.out_of_order ? " (numbered below applied ones)"
                                                    : "");
        }
    }
    run.summary()["pending"] = pending;
    run.summary()["edited"] = edited;
    run.summary()["unknown"] = unknown;
    log::info("database {}: {} migrations: {} pending, {} edited{}",
              place_text(run.db().place()), rows.size(), pending, edited,
              unknown > 0 ? fmt::format(", {} unknown to this xloop (applied by a newer "
                                        "one, or from another --dir)",
                                        unknown)
                          : "");
    if (check && (pending > 0 || edited > 0)) {
        run.success_code = exit_code::not_ready;
    }
}

} // namespace

void run_migrate(run_context& run, migrate_options const& o)
{
    auto const all = o.dir ? load_migrations(*o.dir) : embedded_migrations();
    if (o.status) {
        run.reads_only();
        print_status(run, all, o.check);
        return;
    }
    auto& db = run.db();
    apply_options opts;
    opts.allow_out_of_order = o.allow_out_of_order;
    opts.lock_timeout_s = o.lock_timeout_s;
    opts.up_to = o.up_to;
    opts.dry_run = run.dry_run();
    auto const result = apply_migrations(db, all, opts);
    run.summary()["changes"] = result.changes;
    // The account of what changed: on stdout, for the person running it;
    // -q (cron) and --json leave it out (it is in the summary).
    if (!run.options().json && run.options().quiet == 0) {
        for (auto const& line : result.changes) {
            std::cout << (run.dry_run() ? "would change " : "changed ")
                      << escape_line(line) << '\n';
        }
    }
    if (run.dry_run()) {
        // --json's stdout is its one object, which lists them
        if (!run.options().json) {
            for (auto const& name : result.would_apply) {
                std::cout << "would apply " << name << '\n';
                if (run.options().verbose > 0) {
                    for (auto const& m : all) {
                        if (m.name == name) {
                            std::cout << m.sql << '\n';
                        }
                    }
                }
            }
        }
        log::info("dry run: {} would be applied to database {}",
                  counted(static_cast<long long>(result.would_apply.size()), "migration",
                          "migrations"),
                  place_text(db.place()));
        run.summary()["would_apply"] = result.would_apply;
        return;
    }
    run.rows_out = static_cast<std::int64_t>(result.applied.size());
    run.detail()["applied"] = result.applied;
    run.detail()["changes"] = result.changes;
    run.summary()["applied"] = result.applied;
    if (result.applied.empty()) {
        log::info("database {}: schema is up to date ({} migrations applied)",
                  place_text(db.place()), all.size());
    } else {
        log::info("applied {} to database {}; sent NOTIFY pgrst 'reload schema'",
                  counted(static_cast<long long>(result.applied.size()), "migration",
                          "migrations"),
                  place_text(db.place()));
    }
}

} // namespace xloop
