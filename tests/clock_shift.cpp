// Preloaded (LD_PRELOAD) into a tool by a test, to play a machine whose clock
// is off: CLOCK_REALTIME, which the tools' clock reads, is shifted by
// $XLOOP_CLOCK_SHIFT_SECONDS (negative: behind); other clocks, the steady
// ones that time out waits, are as they are.

#include <dlfcn.h>
#include <time.h>

#include <cstdlib>

extern "C" int clock_gettime(clockid_t id, struct timespec* ts)
{
    using real_fn = int (*)(clockid_t, struct timespec*);
    static auto const real = reinterpret_cast<real_fn>(dlsym(RTLD_NEXT, "clock_gettime"));
    static long const shift = [] {
        char const* s = std::getenv("XLOOP_CLOCK_SHIFT_SECONDS");
        return s ? std::strtol(s, nullptr, 10) : 0L;
    }();
    int const r = real(id, ts);
    if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
        ts->tv_sec += shift;
    }
    return r;
}
