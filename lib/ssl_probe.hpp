#pragma once

// Whether a PostgreSQL server is up at a TCP address, asked as libpq begins:
// an SSLRequest, answered 'S' or 'N'. It tells a TLS setting the operator must
// fix (no TLS there, a certificate that does not verify, a root certificate
// file missing) from a server that is down, where libpq says which only in
// words, and those are translated.

#include <chrono>
#include <string>

namespace xloop {

// Whether the server at host:port (a name or a numeric address) answers an
// SSLRequest, either way, within `timeout` for the connection and again for
// the answer. Sends nothing else: no user name, no password. A signal stops
// the wait (interrupted).
bool answers_ssl_request(std::string const& host, std::string const& port,
                         std::chrono::milliseconds timeout);

} // namespace xloop
