// serve_axon: a registered hotkey announces where its axon listens.
#include <array>
#include <string_view>

#include "merit/util/assert.h"

#include "calls.h"

namespace merit::chain::calls {

namespace {

// Why an axon address can only mean this machine or this link: "unspecified" (0.0.0.0, ::),
// "loopback" (127.0.0.0/8, ::1) or "link-local" (169.254.0.0/16, fe80::/10), IPv4 also in its
// IPv4-mapped IPv6 form (::ffff:a.b.c.d); empty for any other address. `ip` holds an IPv4
// address in its last 4 bytes.
std::string_view localAddressKind(std::uint8_t ipType, const std::array<std::uint8_t, 16>& ip) {
  auto v4 = [](std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) -> std::string_view {
    if (a == 0 && b == 0 && c == 0 && d == 0) return "unspecified";
    if (a == 127) return "loopback";
    if (a == 169 && b == 254) return "link-local";
    return {};
  };
  if (ipType == 4) return v4(ip[12], ip[13], ip[14], ip[15]);
  bool zero10 = std::all_of(ip.begin(), ip.begin() + 10, [](std::uint8_t b) { return b == 0; });
  if (zero10 && ip[10] == 0xff && ip[11] == 0xff)
    return v4(ip[12], ip[13], ip[14], ip[15]);  // ::ffff:a.b.c.d
  bool zero15 = std::all_of(ip.begin(), ip.begin() + 15, [](std::uint8_t b) { return b == 0; });
  if (zero15 && ip[15] == 0) return "unspecified";
  if (zero15 && ip[15] == 1) return "loopback";
  if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80) return "link-local";
  return {};
}

}  // namespace

Outcome handle(const CallContext& ctx, const tx::ServeAxon& c) {
  StateView& s = ctx.state;
  const AccountId& signer = ctx.signer;
  const std::uint64_t block = ctx.block;
  const RuntimeConfig& config = ctx.config;
  auto info = s.subnet(c.netuid);
  if (!info) return err(E::kSubNetworkDoesNotExist);
  auto uid = s.uidOf(c.netuid, signer);
  if (!uid) return err(E::kHotKeyNotRegisteredInSubNet);
  if (c.ipType != 4 && c.ipType != 6) return err(E::kInvalidIpType);
  if (c.ipType == 4) {
    bool high = std::any_of(c.ip.begin(), c.ip.begin() + 12, [](std::uint8_t b) { return b != 0; });
    bool broadcast = c.ip[12] == 255 && c.ip[13] == 255 && c.ip[14] == 255 && c.ip[15] == 255;
    if (high || broadcast) return err(E::kInvalidIpAddress);
  } else {
    bool allOnes = std::all_of(c.ip.begin(), c.ip.end(), [](std::uint8_t b) { return b == 255; });
    if (allOnes) return err(E::kInvalidIpAddress);
  }
  if (auto local = localAddressKind(c.ipType, c.ip); !local.empty() && !config.allowLoopbackAxons) {
    return err(E::kLocalIpAddress, std::string(local) +
                                       " address: nobody else can reach it (allowed only on --dev chains, "
                                       "economics.allow_loopback_axons)");
  }
  if (c.port == 0) return err(E::kInvalidPort);
  auto n = s.neuron(c.netuid, *uid);
  MERIT_ASSERT(n.has_value());
  std::uint64_t limit = paramOf(*info, Hyper::kServingRateLimit);
  if (n->axon && limit != 0 && n->axon->block != 0 && block - n->axon->block < limit) {
    return err(E::kServingRateLimitExceeded,
               "next allowed at block " + std::to_string(n->axon->block + limit));
  }
  AxonInfo a;
  a.block = block;
  a.version = c.version;
  a.ip = c.ip;
  a.port = c.port;
  a.ipType = c.ipType;
  a.protocol = c.protocol;
  a.curveKey = c.curveKey;
  n->axon = a;
  s.setNeuron(c.netuid, *uid, *n);
  return ok();
}

}  // namespace merit::chain::calls
