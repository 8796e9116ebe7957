#pragma once

// A host name asked of the resolver again, where a library (libpq, libcurl)
// says why a lookup failed only in words (translated) or in one code for all:
// a name that does not exist is the operator's to fix, a resolver that cannot
// answer for now (its DNS server down) passes by itself.

#include <string>

namespace xloop {

enum class host_lookup { found, missing, failing_for_now, failed };

// EAI_NONAME: missing; EAI_AGAIN: failing for now; any other error: failed.
// A signal while the resolver has not answered: failing for now, at once.
host_lookup look_up_host(std::string const& name);

} // namespace xloop
