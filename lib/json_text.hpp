#pragma once

// JSON as text: for a statement's parameter, a log line, stdout.

#include <nlohmann/json.hpp>

#include <string>

namespace xloop {

// Bytes that are not UTF-8 (text another program wrote in LATIN1 into a
// SQL_ASCII database, read back as stored) are written as U+FFFD: the
// library's default throws on them, failing a run over one byte of a label.
inline std::string json_text(nlohmann::json const& j, int indent = -1)
{
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace xloop
