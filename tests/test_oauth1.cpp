#include "oauth1.hpp"

#include <catch2/catch.hpp>

using namespace xloop;

namespace {
// X's documented example ("Creating a signature"): a status update with its
// parameters, keys, nonce and time; the signatures below were worked out
// from them with Python's hmac and base64, apart from this code.
request_params const example{
    {"status", "Hello Ladies + Gentlemen, a signed OAuth request!"},
    {"include_entities", "true"},
    {"oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"},
    {"oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"},
    {"oauth_signature_method", "HMAC-SHA1"},
    {"oauth_timestamp", "1318622958"},
    {"oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"},
    {"oauth_version", "1.0"}};
constexpr char const* consumer_secret = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw";
constexpr char const* token_secret = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE";
} // namespace

TEST_CASE("OAuth percent-encoding keeps only the unreserved characters", "[nodb]")
{
    CHECK(oauth_percent_encode("Ladies + Gentlemen, a signed OAuth request!") ==
          "Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21");
    CHECK(oauth_percent_encode("AZaz09-._~") == "AZaz09-._~");
    CHECK(oauth_percent_encode("é/=&") == "%C3%A9%2F%3D%26");
}

TEST_CASE("the signed URL has its scheme and host in lower case and no default port",
          "[nodb]")
{
    CHECK(oauth_base_url("HTTPS://API.X.com:443/2/Tweets?ids=1") ==
          "https://api.x.com/2/Tweets");
    CHECK(oauth_base_url("http://127.0.0.1:8080/2/tweets") ==
          "http://127.0.0.1:8080/2/tweets");
    CHECK(oauth_base_url("http://Example.com:80") == "http://example.com");
    CHECK(oauth_base_url("https://example.com:80/x#f") == "https://example.com:80/x");
    // so a base URL written in capitals signs as X checks it
    CHECK(oauth1_signature("POST", "HTTPS://API.X.COM:443/1.1/statuses/update.json",
                           example, consumer_secret,
                           token_secret) == "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=");
}

TEST_CASE("an OAuth 1.0a signature matches X's documented example", "[nodb]")
{
    CHECK(oauth1_signature("POST", "https://api.twitter.com/1/statuses/update.json",
                           example, consumer_secret,
                           token_secret) == "tnnArxj06cWHq44gCs1OSKk/jLY=");
    CHECK(oauth1_signature("POST", "https://api.twitter.com/1.1/statuses/update.json",
                           example, consumer_secret,
                           token_secret) == "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
    CHECK(oauth1_signature("POST", "https://api.x.com/1.1/statuses/update.json", example,
                           consumer_secret,
                           token_secret) == "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=");
    // the order parameters come in does not matter; their values do
    request_params reversed(example.rbegin(), example.rend());
    CHECK(oauth1_signature("POST", "https://api.x.com/1.1/statuses/update.json", reversed,
                           consumer_secret,
                           token_secret) == "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=");
    CHECK(oauth1_signature("GET", "https://api.x.com/1.1/statuses/update.json", example,
                           consumer_secret,
                           token_secret) != "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=");
}

TEST_CASE("the OAuth header holds the seven oauth_ parameters, sorted and encoded",
          "[nodb]")
{
    oauth1_credentials const c{"xvz1evFS4wEEPTGEFPHBog", consumer_secret,
                               "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
                               token_secret};
    CHECK(oauth1_authorization(
              "POST", "https://api.twitter.com/1/statuses/update.json",
              {{"status", "Hello Ladies + Gentlemen, a signed OAuth request!"},
               {"include_entities", "true"}},
              c, "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", 1318622958) ==
          "OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\", "
          "oauth_nonce=\"kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg\", "
          "oauth_signature=\"tnnArxj06cWHq44gCs1OSKk%2FjLY%3D\", "
          "oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"1318622958\", "
          "oauth_token=\"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb\", "
          "oauth_version=\"1.0\"");
}
