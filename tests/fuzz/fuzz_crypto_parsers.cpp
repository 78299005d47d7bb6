// Fuzz target: parsers of key material and addresses that read user or file input: SS58, base58,
// hex, BIP39 mnemonics, key files (meritnet's, of either scheme, and btcli's), secret URIs, public keys and
// signatures (secp256k1 and sr25519). None may crash; SS58 and hex must round-trip what they accept.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "merit/crypto/bittensor.h"
#include "merit/crypto/mnemonic.h"
#include "merit/crypto/sr25519.h"
#include "merit/crypto/ss58.h"
#include "merit/crypto/suri.h"
#include "merit/crypto/wallet.h"
#include "merit/util/assert.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace merit;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ByteView bytes(reinterpret_cast<const std::byte*>(data), size);

  if (auto id = crypto::ss58Decode(text)) MERIT_ASSERT(crypto::ss58Encode(*id) == text);
  (void)crypto::base58Decode(text);
  if (auto b = fromHex(text)) MERIT_ASSERT(b->size() * 2 + 2 >= size);
  (void)crypto::mnemonicToEntropy(text);
  (void)crypto::inspectKeyfile(text);
  (void)crypto::decodeKeyfile(text, nullptr);  // plain files only: no Argon2 cost per input
  (void)crypto::decodeAnyKeyfile(text, nullptr);
  (void)crypto::bittensor::readKeyfile(bytes, nullptr);  // $NACL needs a password: refused, no Argon2
  (void)crypto::bittensor::parsePublicJson(text);
  (void)crypto::PublicKey::fromBytes(bytes);
  // Parsing only: a URI's phrase would cost a PBKDF2 per input in keypairFromSuri.
  if (auto uri = crypto::parseSecretUri(text)) MERIT_ASSERT(uri->path.size() <= size);
  if (size >= 96) {
    auto pk = crypto::sr25519::PublicKey::fromBytes(bytes.first(32));
    auto sig = crypto::sr25519::Signature::fromBytes(bytes.subspan(32, 64));
    if (pk && sig) (void)crypto::sr25519::verify(*pk, bytes.subspan(96), *sig);
  }
  if (size >= 32) {
    crypto::Hash256 digest;
    std::copy(bytes.begin(), bytes.begin() + 32, digest.begin());
    if (size >= 97) {
      auto sig = crypto::Signature::fromBytes(bytes.subspan(32, 65));
      if (sig) (void)crypto::recoverDigest(digest, *sig);
    }
  }
  return 0;
}

extern "C" void MeritFuzzSeeds(std::vector<std::vector<std::uint8_t>>& out) {
  auto add = [&](std::string_view s) { out.emplace_back(s.begin(), s.end()); };
  add("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
  add("0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
  add("bottom drive obey lake curtain smoke basket hold race lonely fit walk//Alice/1///pw");
  add("legal winner thank year wave sausage worth useful legal winner thank yellow");
  auto key = merit::crypto::PrivateKey::generate();
  auto plain = merit::crypto::encodeKeyfile(key, nullptr, merit::crypto::KdfParams::interactive());
  if (plain) add(*plain);
  auto sr = merit::crypto::AnyPrivateKey(merit::crypto::sr25519::Keypair::generate());
  auto srPlain = merit::crypto::encodeKeyfile(sr, nullptr, merit::crypto::KdfParams::interactive());
  if (srPlain) add(*srPlain);
  add(R"({"publicKey":"0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d",)"
      R"("secretSeed":"0xe5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a"})");
}
