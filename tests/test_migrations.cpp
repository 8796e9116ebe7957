#include "migrations.hpp"
#include "sha256.hpp"

#include <catch2/catch.hpp>

using namespace xloop;

TEST_CASE("sha256_hex gives the standard's digests", "[nodb]")
{
    // FIPS 180-2, appendix B.1, and the empty message
    CHECK(sha256_hex("abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("") ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("the build's checksum of every embedded migration is the SHA-256 of its text",
          "[nodb]")
{
    // migrate records these and validate compares them: the one cmake
    // computed and the one --dir would compute from the same bytes must agree
    auto const files = embedded_sql_files();
    REQUIRE(files.size() >= 10);
    for (auto const& f : files) {
        INFO(f.name);
        CHECK(f.checksum == sha256_hex(f.sql));
    }
    auto const all = embedded_migrations();
    REQUIRE(all.size() == files.size());
    for (auto const& m : all) {
        INFO(m.name);
        CHECK(m.checksum == sha256_hex(m.sql));
    }
}

TEST_CASE("a migration read from a directory has its checksum computed", "[nodb]")
{
    auto const m =
        make_migration("0042_extra.sql", "/tmp/x/0042_extra.sql", "SELECT 1;\n");
    CHECK(m.version == 42);
    CHECK(m.name == "0042_extra");
    CHECK(m.checksum == sha256_hex("SELECT 1;\n"));
}
