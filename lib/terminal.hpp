#pragma once

// The width a report wraps at.

#include <cstddef>

namespace xloop {

// What the terminal on stdout says, else COLUMNS (a cron mail's width: a
// crontab line `COLUMNS=78 xloop-validate`), else 0 (none known: no
// wrapping, a line a row for grep).
std::size_t output_columns();

} // namespace xloop
