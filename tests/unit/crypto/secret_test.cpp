#include "merit/crypto/secret.h"

#include <type_traits>

#include <doctest/doctest.h>

namespace merit::crypto {
namespace {

static_assert(!std::is_copy_constructible_v<SecretBytes>);
static_assert(!std::is_copy_assignable_v<SecretBytes>);
static_assert(!std::is_copy_constructible_v<SecretArray<32>>);
static_assert(!std::is_copy_assignable_v<SecretArray<32>>);

TEST_CASE("secrets move and leave nothing behind") {
  SecretBytes a{std::string_view("hunter2")};
  CHECK(a.revealText() == "hunter2");
  SecretBytes b = std::move(a);
  CHECK(b.revealText() == "hunter2");
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is defined as empty

  SecretArray<4> x(asBytes("abcd"));
  SecretArray<4> y = std::move(x);
  CHECK(asChars(y.reveal()) == "abcd");
  CHECK(toHex(x.reveal()) == "00000000");  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("takeString wipes the source string") {
  std::string s = "password";
  SecretBytes secret = SecretBytes::takeString(s);
  CHECK(s.empty());
  CHECK(secret.revealText() == "password");
}

TEST_CASE("secureZero zeroes") {
  char buf[8] = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'};
  secureZero(buf, sizeof buf);
  for (char c : buf) CHECK(c == 0);
}

}  // namespace
}  // namespace merit::crypto
