#include "sha256.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

namespace xloop {

std::string sha256_hex(std::string_view data)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += fmt::format("{:02x}", digest[i]);
    }
    return out;
}

} // namespace xloop
