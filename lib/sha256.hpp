#pragma once

// SHA-256 as lowercase hex: migration checksums, text fingerprints.

#include <string>
#include <string_view>

namespace xloop {

std::string sha256_hex(std::string_view data);

} // namespace xloop
