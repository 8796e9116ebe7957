#pragma once

// The command line of every tool: the common options and parsing (app's
// constructor and parse(), declared in app.hpp), and each tool's own options.
// The one file that includes CLI11 (12 s of compile time wherever it is).

#include "app.hpp"
#include "migrate_job.hpp"
#include "plan_job.hpp"
#include "scrape_metrics_job.hpp"
#include "validate_job.hpp"

namespace xloop {

void add_options(app& app, migrate_options& opts);
void add_options(app& app, plan_options& opts);
void add_options(app& app, scrape_options& opts);
void add_options(app& app, validate_options& opts);

} // namespace xloop
