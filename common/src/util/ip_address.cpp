#include "merit/util/ip_address.h"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <cstring>
#include <string>

namespace merit {

namespace {

AddressScope classifyV4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  if (a == 0 && b == 0 && c == 0 && d == 0) return AddressScope::kUnspecified;
  if (a == 127) return AddressScope::kLoopback;
  if (a == 169 && b == 254) return AddressScope::kLinkLocal;
  return AddressScope::kGlobal;
}

AddressScope classifyV6(const std::array<std::uint8_t, 16>& ip) {
  const bool zeroPrefix10 = std::all_of(ip.begin(), ip.begin() + 10, [](std::uint8_t x) { return x == 0; });
  if (zeroPrefix10 && ip[10] == 0xff && ip[11] == 0xff) return classifyV4(ip[12], ip[13], ip[14], ip[15]);
  const bool zeroPrefix15 =
      zeroPrefix10 && std::all_of(ip.begin() + 10, ip.begin() + 15, [](std::uint8_t x) { return x == 0; });
  if (zeroPrefix15 && ip[15] == 0) return AddressScope::kUnspecified;
  if (zeroPrefix15 && ip[15] == 1) return AddressScope::kLoopback;
  if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80) return AddressScope::kLinkLocal;
  return AddressScope::kGlobal;
}

}  // namespace

std::string_view addressScopeName(AddressScope scope) {
  switch (scope) {
    case AddressScope::kGlobal: return "global";
    case AddressScope::kUnspecified: return "unspecified";
    case AddressScope::kLoopback: return "loopback";
    case AddressScope::kLinkLocal: return "link-local";
  }
  return "unknown";
}

std::optional<AddressScope> classifyAddress(const std::array<std::uint8_t, 16>& ip, int ipType) {
  if (ipType == 4) return classifyV4(ip[12], ip[13], ip[14], ip[15]);
  if (ipType == 6) return classifyV6(ip);
  return std::nullopt;
}

std::optional<AddressScope> classifyAddress(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  // INET6_ADDRSTRLEN bounds every valid textual form; longer input is not an address.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  std::array<std::uint8_t, 16> ip{};
  in_addr v4{};
  if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    std::memcpy(ip.data() + 12, &v4, 4);
    return classifyAddress(ip, 4);
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(ip.data(), &v6, 16);
    return classifyAddress(ip, 6);
  }
  return std::nullopt;
}

Result<HostPort> parseTcpEndpoint(std::string_view endpoint) {
  constexpr std::string_view kScheme = "tcp://";
  auto bad = [&](const char* why) {
    return fail(ErrorCode::kInvalidArgument, "endpoint '" + std::string(endpoint) + "': " + why);
  };
  if (endpoint.substr(0, kScheme.size()) != kScheme) return bad("expected tcp://HOST:PORT");
  std::string_view rest = endpoint.substr(kScheme.size());
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad("expected tcp://HOST:PORT");
  std::string_view host = rest.substr(0, colon);
  std::string_view portText = rest.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad("unbalanced [ ] around the IPv6 address");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("an IPv6 address must be in [brackets]");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || end != portText.data() + portText.size() || port == 0 || port > 65535) {
    return bad("the port must be 1-65535");
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(port)};
}

}  // namespace merit
