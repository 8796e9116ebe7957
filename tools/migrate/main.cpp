// xloop-migrate: owns the schema. Applies the embedded sql/NNNN_name.sql
// migrations in order (or those of --dir), and reports their status.

#include "app.hpp"
#include "log.hpp"
#include "migrations.hpp"

#include <iostream>

int main(int argc, char** argv)
{
    xloop::app app{
        "migrate",
        "Applies xloop's schema migrations to the database, each in its own "
        "transaction, and records them in xloop.schema_migrations. Safe to run "
        "on an empty database and on the original bot's database (adopting a "
        "content_metadata table and keeping views that have columns of their "
        "own); prints one line per object it changed. A second run is a no-op. "
        "--dry-run tries the migrations in a transaction it rolls back and "
        "prints what they would change."};
    auto& cli = app.cli();
    std::optional<std::string> dir;
    double lock_timeout_s = 60;
    bool allow_out_of_order = false;
    std::optional<int> up_to;
    bool check = false;
    cli.add_option("--dir", dir, "Read migrations from DIR instead of the embedded ones");
    cli.add_option("--lock-timeout", lock_timeout_s,
                   "Seconds to wait for another xloop-migrate to finish, then exit 75")
        ->check(CLI::Range(0.0, 86400.0));
    cli.add_flag("--allow-out-of-order", allow_out_of_order,
                 "Apply pending migrations numbered below the newest applied one");
    cli.add_option("--to", up_to,
                   "Apply migrations up to and including this version only");
    auto* status = cli.add_subcommand(
        "status", "List applied, pending, edited and unknown migrations (read-only)");
    status->add_flag("--check", check,
                     "Exit 1 when anything is pending or edited (for CI)");
    status->fallthrough(); // common options may follow the subcommand

    return app.run(argc, argv, [&](xloop::run_context& run) {
        auto const all =
            dir ? xloop::load_migrations(*dir) : xloop::embedded_migrations();
        auto& db = run.db();

        if (status->parsed()) {
            auto const rows = xloop::read_status(db, all);
            int pending = 0;
            int edited = 0;
            auto& list = run.summary["migrations"] = nlohmann::json::array();
            for (auto const& s : rows) {
                pending += s.state == xloop::migration_state::pending;
                edited += s.state == xloop::migration_state::edited;
                list.push_back({{"version", s.version},
                                {"name", s.name},
                                {"state", to_string(s.state)},
                                {"applied_at", s.applied_at ? *s.applied_at : ""},
                                {"out_of_order", s.out_of_order}});
                if (!run.options().json) {
                    std::cout << fmt::format(
                        "{:04d}  {:<32} {:<8} {}{}\n", s.version, s.name,
                        to_string(s.state), s.applied_at.value_or(""),
                        s.out_of_order ? " (numbered below applied ones)" : "");
                }
            }
            run.summary["pending"] = pending;
            run.summary["edited"] = edited;
            xloop::log::info("{} migrations: {} pending, {} edited", rows.size(), pending,
                             edited);
            if (check && (pending > 0 || edited > 0)) {
                run.success_code = xloop::exit_code::not_ready;
            }
            return;
        }

        xloop::apply_options opts;
        opts.allow_out_of_order = allow_out_of_order;
        opts.lock_timeout_s = lock_timeout_s;
        opts.up_to = up_to;
        opts.dry_run = run.dry_run();
        auto const result = xloop::apply_migrations(db, all, opts);
        run.summary["changes"] = result.changes;
        // The account of what changed: on stdout, for the person running it;
        // -q (cron) and --json leave it out (it is in the summary).
        if (!run.options().json && run.options().quiet == 0) {
            for (auto const& line : result.changes) {
                std::cout << (run.dry_run() ? "would change " : "changed ") << line
                          << '\n';
            }
        }
        if (run.dry_run()) {
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
            xloop::log::info("dry run: {} migrations would be applied",
                             result.would_apply.size());
            run.summary["would_apply"] = result.would_apply;
            return;
        }
        run.rows_out = static_cast<std::int64_t>(result.applied.size());
        run.detail["applied"] = result.applied;
        run.detail["changes"] = result.changes;
        run.summary["applied"] = result.applied;
        if (result.applied.empty()) {
            xloop::log::info("schema is up to date ({} migrations applied)", all.size());
        } else {
            xloop::log::info("applied {} migrations; sent NOTIFY pgrst 'reload schema'",
                             result.applied.size());
        }
    });
}
