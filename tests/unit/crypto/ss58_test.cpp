#include "merit/crypto/ss58.h"

#include <doctest/doctest.h>

namespace merit::crypto {
namespace {

// The well-known development account id (Substrate's //Alice sr25519 key) and its SS58
// address with prefix 42, as printed by Substrate's `subkey inspect //Alice`.
constexpr std::string_view kAliceId = "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";
constexpr std::string_view kAliceAddress = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

TEST_CASE("SS58 encodes the well-known account") {
  auto id = fromHexFixed<32>(kAliceId).value();
  CHECK(ss58Encode(id) == kAliceAddress);
  auto back = ss58Decode(kAliceAddress);
  REQUIRE(back);
  CHECK(*back == id);
}

TEST_CASE("SS58 decode rejects a bad checksum") {
  std::string addr(kAliceAddress);
  addr.back() = addr.back() == 'Y' ? 'Z' : 'Y';
  auto r = ss58Decode(addr);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("checksum") != std::string::npos);
}

TEST_CASE("SS58 decode rejects another network's prefix") {
  auto id = fromHexFixed<32>(kAliceId).value();
  std::string polkadot = ss58Encode(id, 0);
  CHECK(polkadot == "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5");
  auto r = ss58Decode(polkadot);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("prefix 0") != std::string::npos);
  CHECK(ss58Decode(polkadot, 0).value() == id);
  // Two-byte prefix form round-trips too.
  CHECK(ss58Decode(ss58Encode(id, 1000), 1000).value() == id);
  CHECK_FALSE(ss58Decode(ss58Encode(id, 1000)));
}

TEST_CASE("SS58 decode rejects bad length and bad characters") {
  auto shortAddr = ss58Decode("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKu");
  REQUIRE_FALSE(shortAddr);
  CHECK(shortAddr.error().code() == ErrorCode::kInvalidArgument);
  auto badChar = ss58Decode("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKut0Y");  // '0' is not base58
  REQUIRE_FALSE(badChar);
  CHECK(badChar.error().message().find("base58") != std::string::npos);
  CHECK_FALSE(ss58Decode(""));
  CHECK_FALSE(ss58Decode(std::string(500, '5')));
}

TEST_CASE("base58 keeps leading zeros") {
  Bytes b = {std::byte{0}, std::byte{0}, std::byte{1}};
  CHECK(base58Encode(b) == "112");
  CHECK(base58Decode("112").value() == b);
}

TEST_CASE("an address from a key") {
  PrivateKey key = PrivateKey::generate();
  auto addr = ss58Address(key.publicKey());
  CHECK(addr.front() == '5');
  CHECK(ss58Decode(addr).value() == key.publicKey().accountId());
}

}  // namespace
}  // namespace merit::crypto
