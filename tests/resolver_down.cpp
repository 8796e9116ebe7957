// Preloaded (LD_PRELOAD) into a tool by a test, to play a resolver's answers
// without sending a query anywhere: names under resolver-down.invalid cannot
// be looked up for now (EAI_AGAIN: the DNS server is down), names under
// resolver-missing.invalid do not exist (EAI_NONAME). Every other name is
// looked up as usual.

#include <dlfcn.h>
#include <netdb.h>

#include <string_view>

namespace {

bool under(std::string_view name, std::string_view domain)
{
    return name.size() > domain.size() &&
           name.substr(name.size() - domain.size()) == domain &&
           name[name.size() - domain.size() - 1] == '.';
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
    using lookup = int (*)(char const*, char const*, addrinfo const*, addrinfo**);
    static auto const real = reinterpret_cast<lookup>(dlsym(RTLD_NEXT, "getaddrinfo"));
    return real(node, service, hints, res);
}
