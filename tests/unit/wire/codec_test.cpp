#include "merit/wire/codec.h"

#include <random>

#include <doctest/doctest.h>

#include "merit/wire/auth.h"

namespace merit::wire {
namespace {

Request sampleRequest(std::size_t bodySize = 100) {
  auto caller = crypto::PrivateKey::generate();
  Request r;
  r.header.netuid = 3;
  r.header.module = "fashion_mnist";
  r.header.moduleVersion = 2;
  crypto::randomBytes(r.header.requestId);
  r.header.caller = caller.publicKey().bytes();
  r.header.target = crypto::PrivateKey::generate().publicKey().bytes();
  r.header.timestampMs = 1'700'000'000'123;
  r.header.nonce = 42;
  r.header.timeoutMs = 5000;
  r.body.assign(bodySize, std::byte{0x5a});
  r.header.bodyHash = hashBody(r.body);
  signRequest(r, caller);
  return r;
}

}  // namespace

TEST_CASE("every message kind round-trips through encode/decode") {
  Request req = sampleRequest();
  auto decoded = decode(encode(req));
  REQUIRE(decoded);
  CHECK(std::get<Request>(*decoded) == req);

  Response resp;
  resp.requestId = req.header.requestId;
  resp.status = Status::kRateLimited;
  resp.message = "slow down";
  resp.timestampMs = -5;  // negative timestamps survive (two's complement)
  resp.body = toBytes("x");
  resp.bodyHash = hashBody(resp.body);
  resp.auth.kind = Authenticator::Kind::kSessionMac;
  resp.auth.sessionId.fill(std::byte{1});
  resp.auth.mac.fill(std::byte{2});
  decoded = decode(encode(resp));
  REQUIRE(decoded);
  CHECK(std::get<Response>(*decoded) == resp);

  SessionInit init;
  init.caller = req.header.caller;
  init.target = req.header.target;
  init.timestampMs = 9;
  init.clientNonce.fill(std::byte{3});
  init.signature.fill(std::byte{4});
  decoded = decode(encode(init));
  REQUIRE(decoded);
  CHECK(std::get<SessionInit>(*decoded) == init);

  SessionReply reply;
  reply.status = Status::kForbidden;
  reply.message = "no";
  reply.clientNonce.fill(std::byte{5});
  decoded = decode(encode(reply));
  REQUIRE(decoded);
  CHECK(std::get<SessionReply>(*decoded) == reply);
  reply.isSigned = true;
  reply.status = Status::kOk;
  reply.serverNonce.fill(std::byte{6});
  reply.sessionId.fill(std::byte{7});
  reply.signature.fill(std::byte{8});
  decoded = decode(encode(reply));
  REQUIRE(decoded);
  CHECK(std::get<SessionReply>(*decoded) == reply);
}

TEST_CASE("decode rejects oversized, empty, truncated and misaligned frames") {
  const Bytes good = encode(sampleRequest(1000));
  CHECK_FALSE(decode(good, DecodeLimits{good.size() - 8, 8}));
  CHECK(decode(good, DecodeLimits{good.size(), 8}));
  CHECK_FALSE(decode(ByteView{}));
  for (std::size_t cut = 8; cut < good.size(); cut += 8) {
    auto r = decode(ByteView(good).first(cut));
    CHECK_FALSE(r);
    if (!r) CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  }
  CHECK_FALSE(decode(ByteView(good).first(good.size() - 3)));  // not a multiple of 8
  // The same bytes at an odd address decode the same (copied to alignment).
  Bytes shifted(good.size() + 1);
  std::copy(good.begin(), good.end(), shifted.begin() + 1);
  CHECK(decode(ByteView(shifted).subspan(1)));
  // Trailing bytes after a valid message.
  Bytes longer = good;
  longer.resize(good.size() + 8);
  CHECK_FALSE(decode(longer));
}

TEST_CASE("decode survives random garbage and random corruption") {
  std::mt19937_64 rng(12345);
  const Bytes good = encode(sampleRequest(64));
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    Bytes b;
    if (round % 2 == 0) {
      b.resize((rng() % 64) * 8);
      for (auto& x : b) x = std::byte(rng());
    } else {
      b = good;
      for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) b[rng() % b.size()] = std::byte(rng());
    }
    auto r = decode(b);
    if (r)
      ++accepted;
    else
      CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  }
  // Some corruptions only touch the body or signature bytes, which decode still accepts.
  CHECK(accepted < 20000);
}

TEST_CASE("decode enforces field sizes, module names and the protocol version") {
  Request r = sampleRequest();
  r.header.module = "Bad Name";
  CHECK_FALSE(decode(encode(r)));
  r.header.module = std::string(65, 'a');
  CHECK_FALSE(decode(encode(r)));
  r.header.module = "ok";
  r.header.protocolVersion = 2;
  auto bad = decode(encode(r));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("protocol version") != std::string::npos);
  CHECK(isValidModuleName("charlm"));
  CHECK(isValidModuleName("a.b-c_9"));
  CHECK_FALSE(isValidModuleName(""));
  CHECK_FALSE(isValidModuleName("UPPER"));
}

TEST_CASE("status names are stable") {
  CHECK(statusName(Status::kOk) == "OK");
  CHECK(statusName(Status::kBadRequest) == "BAD_REQUEST");
  CHECK(statusName(Status::kStale) == "STALE");
  CHECK(statusName(Status::kUnavailable) == "UNAVAILABLE");
}

}  // namespace merit::wire
