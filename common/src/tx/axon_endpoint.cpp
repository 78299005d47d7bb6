#include "merit/tx/axon_endpoint.h"

#include <arpa/inet.h>
#include <cstring>

namespace merit::tx {

Result<AxonAddress> AxonAddress::parse(std::string_view ip, std::uint16_t port) {
  std::string text(ip);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  AxonAddress a;
  a.port = port;
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    a.ipType = IpType::kIpv4;
    std::memcpy(a.ip.data() + 12, &v4, 4);
  } else if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    a.ipType = IpType::kIpv6;
    std::memcpy(a.ip.data(), &v6, 16);
  } else {
    return fail(ErrorCode::kInvalidArgument, "'" + std::string(ip) + "' is not an IPv4 or IPv6 address");
  }
  return a;
}

std::string AxonAddress::ipText() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ipType == IpType::kIpv4) {
    in_addr v4{};
    std::memcpy(&v4, ip.data() + 12, 4);
    return ::inet_ntop(AF_INET, &v4, buf, sizeof buf) != nullptr ? buf : "";
  }
  in6_addr v6{};
  std::memcpy(&v6, ip.data(), 16);
  return ::inet_ntop(AF_INET6, &v6, buf, sizeof buf) != nullptr ? buf : "";
}

std::string AxonAddress::endpoint() const {
  return tcpEndpoint(ipText(), static_cast<std::uint8_t>(ipType), port);
}

std::string tcpEndpoint(std::string_view ipText, std::uint8_t ipType, std::uint16_t port) {
  const bool v6 = ipType == static_cast<std::uint8_t>(IpType::kIpv6);
  return "tcp://" + (v6 ? "[" + std::string(ipText) + "]" : std::string(ipText)) + ":" + std::to_string(port);
}

}  // namespace merit::tx
