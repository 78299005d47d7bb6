// Where an axon listens, as the chain stores it and as peers dial it: one type with parse and
// format for the miner (which parses its bound endpoint and announces it with serve_axon), the
// validator and the CLI (which format what they read from the metagraph into a dial endpoint),
// and both chain backends (which carry the same numbers on their own wire).
//
// On chain an address is 16 bytes plus an ip_type: IPv4 (4) in the last four bytes, IPv6 (6) in
// all sixteen; the protocol says how to talk to it (docs/PROTOCOL.md).
//
// Thread-safety: values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "merit/util/ip_address.h"
#include "merit/util/result.h"

namespace merit::tx {

// serve_axon's ip_type.
enum class IpType : std::uint8_t {
  kIpv4 = 4,
  kIpv6 = 6,
};

// serve_axon's protocol: how a validator talks to the axon.
enum class AxonProtocol : std::uint8_t {
  kPlain = 0,        // ZeroMQ without transport encryption
  kCurve = 1,        // CurveZMQ with the axon's announced curve key
  kCurveShield = 2,  // CurveZMQ in shield mode: client keys derived from both hotkeys
};

// True for the protocols that dial with the axon's curve key.
constexpr bool usesCurve(std::uint8_t protocol) {
  return protocol == static_cast<std::uint8_t>(AxonProtocol::kCurve) ||
         protocol == static_cast<std::uint8_t>(AxonProtocol::kCurveShield);
}
constexpr bool isShield(std::uint8_t protocol) {
  return protocol == static_cast<std::uint8_t>(AxonProtocol::kCurveShield);
}

struct AxonAddress {
  std::array<std::uint8_t, 16> ip{};  // IPv4 in the last four bytes
  IpType ipType = IpType::kIpv4;
  std::uint16_t port = 0;

  // A literal address, dotted IPv4 or IPv6 (optionally in [brackets]), and a port. Host names
  // are refused (the chain stores addresses, not names); kInvalidArgument names the input.
  static Result<AxonAddress> parse(std::string_view ip, std::uint16_t port);
  // The address as text: "203.0.113.7" or "2001:db8::1" (no brackets).
  std::string ipText() const;
  // The ZeroMQ endpoint to dial: "tcp://203.0.113.7:9000" or "tcp://[2001:db8::1]:9000".
  std::string endpoint() const;

  friend bool operator==(const AxonAddress&, const AxonAddress&) = default;
};

// The endpoint parser lives with the address rules (merit/util/ip_address.h).
using merit::HostPort;
using merit::parseTcpEndpoint;

// "tcp://HOST:PORT" for an address given as text (IPv6 goes in brackets, by ip_type).
std::string tcpEndpoint(std::string_view ipText, std::uint8_t ipType, std::uint16_t port);

}  // namespace merit::tx
