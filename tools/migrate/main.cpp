// xloop-migrate: owns the schema. Applies the embedded sql/NNNN_name.sql
// migrations in order (or those of --dir), and reports their status.

#include "app.hpp"
#include "command_line.hpp"
#include "migrate_job.hpp"

int main(int argc, char** argv)
{
    xloop::app app{
        "migrate",
        "Applies xloop's schema migrations to the database, each in its own "
        "transaction, and records them in xloop.schema_migrations. Safe to run on an "
        "empty database and on the original bot's database (adopting a content_metadata "
        "table and keeping views that have columns of their own); prints one line per "
        "object it changed. A second run is a no-op. --dry-run tries the migrations in "
        "a transaction it rolls back and prints what they would change."};
    xloop::migrate_options opts;
    xloop::add_options(app, opts);
    return app.run(argc, argv,
                   [&](xloop::run_context& run) { xloop::run_migrate(run, opts); });
}
