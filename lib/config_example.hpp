#pragma once

// The example configuration, written from the code's defaults (config.hpp)
// so the shipped xloop.example.yaml cannot drift from them: every key with
// its default and a one-line comment. Printed by --print-default-config.

#include <string>

namespace xloop {

std::string default_config_yaml();

} // namespace xloop
