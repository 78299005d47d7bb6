// Classifying IP addresses that peers advertise (axon endpoints on chain): which ones a remote
// validator can never reach (unspecified, loopback, link-local) and are therefore only acceptable
// on a development chain where every process runs on one host. One definition, used by the
// validator before it dials and available to the chain before it stores an axon.
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "merit/util/result.h"

namespace merit {

enum class AddressScope : std::uint8_t {
  kGlobal,       // anything not below: routable (public or private LAN), dialable
  kUnspecified,  // 0.0.0.0, ::  (and ::ffff:0.0.0.0)
  kLoopback,     // 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104
  kLinkLocal,    // 169.254.0.0/16, fe80::/10, ::ffff:169.254.0.0/112
};

// Stable lower-case name ("global", "unspecified", "loopback", "link-local") for logs.
std::string_view addressScopeName(AddressScope scope);

// A 16-byte address as the chain stores it: IPv4 in the last four bytes (ipType 4), IPv6 in all
// sixteen (ipType 6). IPv4-mapped IPv6 (::ffff:a.b.c.d) is classified as the IPv4 address it maps.
// Any other ipType is nullopt.
std::optional<AddressScope> classifyAddress(const std::array<std::uint8_t, 16>& ip, int ipType);

// The same for text: dotted IPv4 or IPv6 (optionally in [brackets]). nullopt when it is neither
// (host names are not addresses and are not classified here).
std::optional<AddressScope> classifyAddress(std::string_view text);

// True for the scopes a peer on another host can never reach: only a dev chain (all processes on
// one host) may advertise them.
inline bool isHostLocal(AddressScope scope) {
  return scope != AddressScope::kGlobal;
}

// The host and port of a ZeroMQ TCP endpoint "tcp://HOST:PORT" (an axon's bound endpoint, or one
// a dendrite dials; HOST may be a name, "*", or an IPv6 address in brackets, returned without
// them). kInvalidArgument for anything else or a port outside 1-65535. One parser for the miner
// (its bound endpoint) and the dendrite's transport.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
Result<HostPort> parseTcpEndpoint(std::string_view endpoint);

}  // namespace merit
