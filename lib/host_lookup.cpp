#include "host_lookup.hpp"

#include "off_thread.hpp"

#include <netdb.h>
#include <sys/socket.h>

namespace xloop {

host_lookup look_up_host(std::string const& name)
{
    // A resolver that does not answer holds getaddrinfo for its timeouts (5 s
    // a server, twice): a signal is not kept waiting.
    auto const rc = run_off_thread<int>([name] {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* found = nullptr;
        int const rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &found);
        if (found) {
            ::freeaddrinfo(found);
        }
        return rc;
    });
    if (!rc) {
        return host_lookup::failing_for_now; // the run is stopping: no answer yet
    }
    return *rc == 0            ? host_lookup::found
           : *rc == EAI_NONAME ? host_lookup::missing
           : *rc == EAI_AGAIN  ? host_lookup::failing_for_now
                               : host_lookup::failed;
}

} // namespace xloop
