#include "host_lookup.hpp"

#include <netdb.h>
#include <sys/socket.h>

namespace xloop {

host_lookup look_up_host(std::string const& name)
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    int const rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &found);
    if (found) {
        ::freeaddrinfo(found);
    }
    return rc == 0            ? host_lookup::found
           : rc == EAI_NONAME ? host_lookup::missing
           : rc == EAI_AGAIN  ? host_lookup::failing_for_now
                              : host_lookup::failed;
}

} // namespace xloop
