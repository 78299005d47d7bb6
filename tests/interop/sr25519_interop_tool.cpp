// The C++ side of the sr25519 interoperability test (run.sh, sr25519_interop.mjs).
//   sr25519_interop_tool emit            key material, C++ signatures and derivations, "name hex"
//                                         per line on stdout
//   sr25519_interop_tool check EMITTED JS verifies the signatures the JavaScript libraries made
//                                         (lines "jsig_<lib> hex" in JS) over EMITTED's message
// Exits 1 with the reason on stderr when a signature does not verify.
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "merit/crypto/sr25519.h"

namespace {

using namespace merit;
using namespace merit::crypto;

std::map<std::string, std::string> readLines(const char* path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string name, value;
  while (in >> name >> value) out[name] = value;
  return out;
}

int emit() {
  const std::string miniHex = "e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a";
  auto mini = fromHex(miniHex);
  auto kp = sr25519::Keypair::fromMiniSecret(*mini);
  if (!kp) return 1;
  const std::string msg = "meritnet sr25519 interop: sign in C++, verify in JavaScript";
  ByteArray<32> rnd{};
  for (std::size_t i = 0; i < rnd.size(); ++i) rnd[i] = std::byte(static_cast<unsigned char>(3 * i + 1));
  std::printf("mini %s\n", miniHex.c_str());
  std::printf("pub %s\n", kp->publicKey().toHex().c_str());
  std::printf("sk_ed %s\n", toHex(kp->toEd25519Bytes().reveal()).c_str());
  std::printf("sk_raw %s\n", toHex(kp->toSchnorrkelBytes().reveal()).c_str());
  std::printf("msg %s\n", toHex(asBytes(msg)).c_str());
  std::printf("sig %s\n", kp->sign(asBytes(msg)).toHex().c_str());
  std::printf("rnd %s\n", toHex(rnd).c_str());
  std::printf("sigdet %s\n", kp->signWithRandomness(asBytes(msg), rnd).toHex().c_str());
  const auto hard = DeriveJunction::fromText("hard", true);
  const auto soft = DeriveJunction::fromText("soft", false);
  std::printf("hardcc %s\n", toHex(hard.chainCode).c_str());
  std::printf("hardpub %s\n", kp->deriveHard(hard.chainCode).publicKey().toHex().c_str());
  std::printf("softcc %s\n", toHex(soft.chainCode).c_str());
  std::printf("softpub %s\n", kp->deriveSoft(soft.chainCode).publicKey().toHex().c_str());
  return 0;
}

int check(const char* emitted, const char* js) {
  auto ours = readLines(emitted);
  auto theirs = readLines(js);
  auto pub = sr25519::PublicKey::fromHex(ours["pub"]);
  auto msg = fromHex(ours["msg"]);
  if (!pub || !msg) {
    std::fprintf(stderr, "emitted file lacks pub/msg\n");
    return 1;
  }
  int checked = 0;
  for (const auto& [name, value] : theirs) {
    if (name.rfind("jsig_", 0) != 0) continue;
    auto sig = sr25519::Signature::fromHex(value);
    if (!sig) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), sig.error().message().c_str());
      return 1;
    }
    if (auto ok = sr25519::verify(*pub, *msg, *sig); !ok) {
      std::fprintf(stderr, "%s does not verify in C++: %s\n", name.c_str(), ok.error().message().c_str());
      return 1;
    }
    std::printf("C++ verifies %s\n", name.c_str());
    ++checked;
  }
  if (checked < 2) {
    std::fprintf(stderr, "expected signatures from both JavaScript libraries, got %d\n", checked);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "emit" && argc == 2) return emit();
  if (mode == "check" && argc == 4) return check(argv[2], argv[3]);
  std::fprintf(stderr, "usage: sr25519_interop_tool emit | check EMITTED JS\n");
  return 2;
}
