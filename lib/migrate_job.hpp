#pragma once

// xloop-migrate's run: apply the migrations (an account of what changed on
// stdout), or with `status`, list them.

#include <optional>
#include <string>

namespace xloop {

class run_context;

struct migrate_options {
    std::optional<std::string> dir; // migrations from here, not the embedded ones
    double lock_timeout_s = 60;
    bool allow_out_of_order = false;
    std::optional<int> up_to;
    bool status = false; // the `status` subcommand
    bool check = false;  // status --check: exit 1 when anything is pending or edited
};

void run_migrate(run_context& run, migrate_options const& opts);

} // namespace xloop
