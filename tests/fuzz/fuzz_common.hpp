#pragma once

// Shared by the fuzz targets: quiet logs, and the rule that only xloop's own
// errors (a bad input named as such) may escape a parser; anything else (a
// crash, a sanitizer report, another exception) is a finding.

#include "error.hpp"
#include "log.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

// Quiet logs (warnings about bad input are expected by the million); once,
// after static initialisation, which a global's initialiser is not.
extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    xloop::log::configure("xloop-fuzz", xloop::log::format::text,
                          xloop::log::level::error);
    return 0;
}

namespace xloop::fuzz {

template <typename F>
void expect_only_xloop_errors(F&& f)
{
    try {
        f();
    } catch (xloop::error const&) {
        // a bad input, refused with a message: the intended outcome
    }
}

} // namespace xloop::fuzz
