#pragma once

// Secrets given on the command line. A process's arguments are readable by
// every user of the machine (ps, /proc/PID/cmdline) for as long as it runs;
// a tool blanks the secret bytes in its own argv once it has parsed them.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xloop {

// The byte ranges [first, second) of the values of `password` and
// `sslpassword` in a libpq connection string, as libpq reads it: the
// password of a URI's user info (`postgresql://user:PASSWORD@host`) and of
// its query (`?password=…`), or a keyword's value (`password='a b'`: inside
// the quotes). Empty when there is none.
std::vector<std::pair<std::size_t, std::size_t>>
conninfo_secret_spans(std::string_view s);

// The values of `password` and `sslpassword` as libpq parses the connection
// string (none when it does not parse).
std::vector<std::string> conninfo_secret_values(char const* conninfo);

// Overwrites with '*' the secrets in the values of --db (its passwords) and
// --ping-url (the path after its host: a check's key) in argv; the options
// must have been parsed already (their values are copies). A --db value that
// libpq parses with a password the scan did not find is blanked whole.
// Whether --db held a password.
bool hide_argv_secrets(int argc, char** argv);

} // namespace xloop
