// Preloaded (LD_PRELOAD) into a tool by a test, to play a resolver's answers
// without sending a query anywhere: names under resolver-down.invalid cannot
// be looked up for now (EAI_AGAIN: the DNS server is down), names under
// resolver-missing.invalid do not exist (EAI_NONAME), and a name under
// resolver-stuck.invalid fails at once the first time and then finds the
// resolver silent: the lookup waits 30 s and fails; a name under
// resolver-silent.invalid waits 30 s every time. A lookup that waits first
// creates the file $XLOOP_RESOLVER_STUCK_MARK, if set, so a test knows it
// waits. Every other name is looked up as usual.

#include <dlfcn.h>
#include <netdb.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>

namespace {

bool under(std::string_view name, std::string_view domain)
{
    return name.size() > domain.size() &&
           name.substr(name.size() - domain.size()) == domain &&
           name[name.size() - domain.size() - 1] == '.';
}

// A resolver that does not answer: 30 s, once the test is told.
void wait_silently()
{
    if (char const* mark = std::getenv("XLOOP_RESOLVER_STUCK_MARK")) {
        if (std::FILE* f = std::fopen(mark, "w")) {
            std::fclose(f);
        }
    }
    std::this_thread::sleep_for(std::chrono::seconds{30});
}

} // namespace

extern "C" int getaddrinfo(char const* node, char const* service, addrinfo const* hints,
                           addrinfo** res)
{
    if (node && under(node, "resolver-down.invalid")) {
        return EAI_AGAIN;
    }
    if (node && under(node, "resolver-missing.invalid")) {
        return EAI_NONAME;
    }
    if (node && under(node, "resolver-silent.invalid")) {
        wait_silently();
        return EAI_AGAIN;
    }
    if (node && under(node, "resolver-stuck.invalid")) {
        static std::atomic<int> calls{0};
        if (calls++ > 0) {
            wait_silently();
        }
        return EAI_AGAIN;
    }
    using lookup = int (*)(char const*, char const*, addrinfo const*, addrinfo**);
    static auto const real = reinterpret_cast<lookup>(dlsym(RTLD_NEXT, "getaddrinfo"));
    return real(node, service, hints, res);
}
