#pragma once

// A row's key as JSON, for summaries and features: a number where it is an
// integer (bigserial, identity), else its text (uuid, text): the original
// bot's tables and Supabase's key rows either way, and xloop reads each key
// as text.

#include <nlohmann/json_fwd.hpp>

#include <string_view>

namespace xloop {

nlohmann::json row_id_json(std::string_view id);

} // namespace xloop
