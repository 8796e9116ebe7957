#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>

// No test traffic leaves this machine: a proxy the environment names
// (https_proxy, all_proxy) would be asked for the tests' made-up hosts
// (resolver-down.invalid). The tools the tests run inherit this.
int main(int argc, char* argv[])
{
    for (auto const* name : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                             "all_proxy", "ALL_PROXY"}) {
        ::unsetenv(name);
    }
    return Catch::Session().run(argc, argv);
}
