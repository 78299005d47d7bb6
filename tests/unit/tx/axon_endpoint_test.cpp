// The axon endpoint type: parse and format of addresses and ZeroMQ endpoints.
#include "merit/tx/axon_endpoint.h"

#include <doctest/doctest.h>

namespace merit::tx {
namespace {

TEST_CASE("IPv4 addresses parse into the last four bytes and format back") {
  auto a = AxonAddress::parse("203.0.113.7", 9000);
  REQUIRE(a);
  CHECK(a->ipType == IpType::kIpv4);
  CHECK(static_cast<int>(a->ipType) == 4);
  for (int i = 0; i < 12; ++i) CHECK(a->ip[i] == 0);
  CHECK(a->ip[12] == 203);
  CHECK(a->ip[15] == 7);
  CHECK(a->ipText() == "203.0.113.7");
  CHECK(a->endpoint() == "tcp://203.0.113.7:9000");
  auto again = AxonAddress::parse(a->ipText(), a->port);
  REQUIRE(again);
  CHECK(*again == *a);
}

TEST_CASE("IPv6 addresses fill all sixteen bytes and go in brackets in an endpoint") {
  auto a = AxonAddress::parse("2001:db8::1", 443);
  REQUIRE(a);
  CHECK(a->ipType == IpType::kIpv6);
  CHECK(static_cast<int>(a->ipType) == 6);
  CHECK(a->ip[0] == 0x20);
  CHECK(a->ip[1] == 0x01);
  CHECK(a->ip[15] == 1);
  CHECK(a->ipText() == "2001:db8::1");
  CHECK(a->endpoint() == "tcp://[2001:db8::1]:443");
  auto bracketed = AxonAddress::parse("[2001:db8::1]", 443);
  REQUIRE(bracketed);
  CHECK(*bracketed == *a);
  // IPv4-mapped IPv6 stays IPv6 (ip_type 6), as the chain stores it.
  auto mapped = AxonAddress::parse("::ffff:10.0.0.1", 1);
  REQUIRE(mapped);
  CHECK(mapped->ipType == IpType::kIpv6);
}

TEST_CASE("bad addresses and endpoints are clear errors") {
  for (const char* bad : {"", "localhost", "1.2.3", "1.2.3.256", "2001:db8::1::2", "[::1", "10.0.0.1 "}) {
    auto a = AxonAddress::parse(bad, 1);
    CAPTURE(bad);
    REQUIRE_FALSE(a);
    CHECK(a.error().code() == ErrorCode::kInvalidArgument);
    CHECK(a.error().message().find("is not an IPv4 or IPv6 address") != std::string::npos);
  }
  for (const char* bad :
       {"", "tcp://", "tcp://1.2.3.4", "udp://1.2.3.4:5", "tcp://1.2.3.4:0", "tcp://1.2.3.4:65536",
        "tcp://1.2.3.4:9x", "tcp://::1:9000", "tcp://[::1:9000", "tcp://:9000"}) {
    CAPTURE(bad);
    auto e = parseTcpEndpoint(bad);
    REQUIRE_FALSE(e);
    CHECK(e.error().code() == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("ZeroMQ endpoints split into host and port, IPv6 without its brackets") {
  auto v4 = parseTcpEndpoint("tcp://127.0.0.1:41234");
  REQUIRE(v4);
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == 41234);
  auto any = parseTcpEndpoint("tcp://*:5555");
  REQUIRE(any);
  CHECK(any->host == "*");
  auto v6 = parseTcpEndpoint("tcp://[::1]:65535");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 65535);
  CHECK(tcpEndpoint(v6->host, static_cast<std::uint8_t>(IpType::kIpv6), v6->port) == "tcp://[::1]:65535");
  CHECK(tcpEndpoint("10.1.2.3", static_cast<std::uint8_t>(IpType::kIpv4), 7) == "tcp://10.1.2.3:7");
}

TEST_CASE("protocol numbers are named") {
  CHECK(static_cast<int>(AxonProtocol::kPlain) == 0);
  CHECK(static_cast<int>(AxonProtocol::kCurve) == 1);
  CHECK(static_cast<int>(AxonProtocol::kCurveShield) == 2);
  CHECK_FALSE(usesCurve(0));
  CHECK(usesCurve(1));
  CHECK(usesCurve(2));
  CHECK_FALSE(usesCurve(3));
  CHECK(isShield(2));
  CHECK_FALSE(isShield(1));
}

}  // namespace
}  // namespace merit::tx
