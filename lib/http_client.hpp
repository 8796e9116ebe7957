#pragma once

// A small blocking HTTP client over libcurl, for the X API, the LLM endpoint
// and heartbeat pings. It reports transport failures as status 0.

#include <map>
#include <string>
#include <vector>

namespace xloop {

struct http_response {
    long status = 0;             // 0: no response (connect failure, timeout)
    std::string transport_error; // set when status is 0
    bool timed_out = false;
    std::map<std::string, std::string> headers; // names lower-cased
    std::string body;
};

struct http_request {
    std::string method = "GET";
    std::string url;
    std::vector<std::string> headers; // "Name: value"
    std::string body;
    long timeout_ms = 10000;
};

http_response http_send(http_request const& request);

// Percent-encodes a query component.
std::string url_encode(std::string const& text);

} // namespace xloop
