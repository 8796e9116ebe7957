// P(best) of any arms a map can hold (pairs of doubles from the input: NaN,
// infinities, 1e308, denormals, sds of 0): as many probabilities as arms,
// each in [0, 1], summing to 1; the same arms in reverse order give the same
// probabilities in reverse (the grid is the arms', not the order's); and
// hundreds of arms in time (libFuzzer's -timeout: it was k² once).
#include "fuzz_common.hpp"
#include "normal.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    using namespace xloop;
    std::vector<normal_belief> arms;
    for (std::size_t at = 0; at + 16 <= size; at += 16) {
        normal_belief a;
        std::memcpy(&a.mean, data + at, 8);
        std::memcpy(&a.sd, data + at + 8, 8);
        arms.push_back(a);
    }
    auto const p = probability_best(arms);
    if (p.size() != arms.size()) {
        std::abort();
    }
    double sum = 0;
    for (double const x : p) {
        if (!(x >= 0 && x <= 1)) {
            std::abort();
        }
        sum += x;
    }
    if (!arms.empty() && std::abs(sum - 1) > 1e-9) {
        std::abort();
    }
    std::vector<normal_belief> const reversed(arms.rbegin(), arms.rend());
    auto const q = probability_best(reversed);
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (std::abs(p[i] - q[p.size() - 1 - i]) > 1e-9) {
            std::abort();
        }
    }
    return 0;
}
