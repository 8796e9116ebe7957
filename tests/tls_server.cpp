#include "tls_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace xloop::test {

namespace {

template <typename T, void (*Free)(T*)>
struct freer {
    void operator()(T* p) const noexcept { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, freer<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, freer<X509, X509_free>>;

x509_ptr self_signed(EVP_PKEY* key)
{
    x509_ptr cert{X509_new()};
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), key);
    auto* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<unsigned char const*>("localhost"), -1,
                               -1, 0);
    X509_set_issuer_name(cert.get(), name);
    if (X509_sign(cert.get(), key, EVP_sha256()) == 0) {
        throw std::runtime_error{"tls_server: cannot sign its certificate"};
    }
    return cert;
}

} // namespace

tls_server::tls_server()
{
    pkey_ptr const key{EVP_EC_gen("P-256")};
    if (!key) {
        throw std::runtime_error{"tls_server: cannot make a key"};
    }
    auto const cert = self_signed(key.get());
    auto* ctx = SSL_CTX_new(TLS_server_method());
    m_ctx = ctx;
    if (!ctx || SSL_CTX_use_certificate(ctx, cert.get()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
        throw std::runtime_error{"tls_server: cannot set up TLS"};
    }
    m_listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(m_listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(m_listener, 16) != 0 ||
        ::getsockname(m_listener, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        throw std::runtime_error{"tls_server: cannot listen on 127.0.0.1"};
    }
    m_port = ntohs(a.sin_port);
    m_thread = std::thread{[this] { loop(); }};
}

tls_server::~tls_server()
{
    ::shutdown(m_listener, SHUT_RDWR);
    m_thread.join();
    ::close(m_listener);
    SSL_CTX_free(static_cast<SSL_CTX*>(m_ctx));
}

void tls_server::loop()
{
    for (;;) {
        int const c = ::accept(m_listener, nullptr, nullptr);
        if (c < 0) {
            return;
        }
        ++m_connections;
        SSL* ssl = SSL_new(static_cast<SSL_CTX*>(m_ctx));
        SSL_set_fd(ssl, c);
        if (SSL_accept(ssl) == 1) {
            char request[4096];
            if (SSL_read(ssl, request, sizeof request) > 0) {
                std::string const answer = "HTTP/1.1 200 OK\r\nContent-Type: "
                                           "application/json\r\nContent-Length: 2\r\n"
                                           "Connection: close\r\n\r\n{}";
                SSL_write(ssl, answer.data(), static_cast<int>(answer.size()));
            }
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        ::close(c);
    }
}

} // namespace xloop::test
