#include "merit/util/ip_address.h"

#include <string>

#include <doctest/doctest.h>

namespace merit {
namespace {

AddressScope scopeOf(const char* text) {
  auto s = classifyAddress(text);
  REQUIRE_MESSAGE(s.has_value(), text);
  return *s;
}

TEST_CASE("IPv4 scopes: unspecified, all of 127/8, 169.254/16; everything else is global") {
  CHECK(scopeOf("0.0.0.0") == AddressScope::kUnspecified);
  CHECK(scopeOf("127.0.0.1") == AddressScope::kLoopback);
  CHECK(scopeOf("127.0.0.2") == AddressScope::kLoopback);
  CHECK(scopeOf("127.255.255.254") == AddressScope::kLoopback);
  CHECK(scopeOf("169.254.0.1") == AddressScope::kLinkLocal);
  CHECK(scopeOf("169.254.169.254") == AddressScope::kLinkLocal);  // cloud metadata service
  CHECK(scopeOf("128.0.0.1") == AddressScope::kGlobal);
  CHECK(scopeOf("126.255.255.255") == AddressScope::kGlobal);
  CHECK(scopeOf("169.253.1.1") == AddressScope::kGlobal);
  CHECK(scopeOf("10.0.0.1") == AddressScope::kGlobal);  // private LAN: reachable within it
  CHECK(scopeOf("8.8.8.8") == AddressScope::kGlobal);
}

TEST_CASE("IPv6 scopes, and v4-mapped addresses classified as the IPv4 they map") {
  CHECK(scopeOf("::") == AddressScope::kUnspecified);
  CHECK(scopeOf("::1") == AddressScope::kLoopback);
  CHECK(scopeOf("[::1]") == AddressScope::kLoopback);
  CHECK(scopeOf("fe80::1") == AddressScope::kLinkLocal);
  CHECK(scopeOf("febf:ffff::1") == AddressScope::kLinkLocal);  // the top of fe80::/10
  CHECK(scopeOf("fec0::1") == AddressScope::kGlobal);
  CHECK(scopeOf("::ffff:127.0.0.1") == AddressScope::kLoopback);
  CHECK(scopeOf("::ffff:127.9.8.7") == AddressScope::kLoopback);
  CHECK(scopeOf("::ffff:7f00:1") == AddressScope::kLoopback);
  CHECK(scopeOf("::ffff:0.0.0.0") == AddressScope::kUnspecified);
  CHECK(scopeOf("::ffff:169.254.1.2") == AddressScope::kLinkLocal);
  CHECK(scopeOf("::ffff:8.8.8.8") == AddressScope::kGlobal);
  CHECK(scopeOf("::2") == AddressScope::kGlobal);
  CHECK(scopeOf("2001:db8::1") == AddressScope::kGlobal);
}

TEST_CASE("chain byte form: IPv4 in the last four bytes, IPv6 in all sixteen") {
  std::array<std::uint8_t, 16> ip{};
  CHECK(classifyAddress(ip, 4) == AddressScope::kUnspecified);
  CHECK(classifyAddress(ip, 6) == AddressScope::kUnspecified);
  ip[12] = 127;
  ip[15] = 5;
  CHECK(classifyAddress(ip, 4) == AddressScope::kLoopback);
  ip[10] = ip[11] = 0xff;  // ::ffff:127.0.0.5
  CHECK(classifyAddress(ip, 6) == AddressScope::kLoopback);
  CHECK_FALSE(classifyAddress(ip, 5).has_value());
  CHECK(addressScopeName(AddressScope::kLinkLocal) == "link-local");
  CHECK(isHostLocal(AddressScope::kLoopback));
  CHECK_FALSE(isHostLocal(AddressScope::kGlobal));
}

TEST_CASE("text that is not an address is not classified") {
  CHECK_FALSE(classifyAddress("").has_value());
  CHECK_FALSE(classifyAddress("localhost").has_value());
  CHECK_FALSE(classifyAddress("127.1").has_value());  // inet_pton takes dotted quads only
  CHECK_FALSE(classifyAddress("1.2.3.4.5").has_value());
  CHECK_FALSE(classifyAddress(std::string(200, '1')).has_value());
  CHECK_FALSE(classifyAddress("[::1").has_value());
}

}  // namespace
}  // namespace merit
