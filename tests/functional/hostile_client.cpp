// hostile_client: attacks a running miner and chain node the way a hostile peer would, and checks
// that each attempt is refused and changes nothing. Run by resilience_test.sh against real
// processes; prints one "ok/FAIL" line per check and exits non-zero if any check failed.
//
//   hostile_client CHAIN_URL NETUID MINER_UID PLUGIN SUBNET_DIR
//
// Keys come from $MERIT_HOME: wallet "owner", hotkey "validator" (registered, with a validator
// permit, and funded so it can sign transfers), and a fresh random key as the stranger.
//
// Miner side (raw ZeroMQ DEALER frames, exactly what the dendrite sends):
//   a well-formed signed request answers OK and its answer scores 1 (the baseline);
//   the same frame replayed is refused (STALE), a request with a forged signature is refused
//   (UNAUTHORIZED), a correctly signed request from an unregistered key is refused (FORBIDDEN),
//   garbage bytes are refused (BAD_REQUEST), an oversized frame is refused or dropped, and the
//   miner still answers correctly afterwards.
// Chain side (JSON-RPC): garbage JSON, a body over the size limit, a garbage extrinsic, an
// extrinsic with a forged signature, an extrinsic replayed after inclusion, and a transfer from
// an unfunded key are all refused; balances are exactly what the one honest transfer made them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "merit/crypto/keys.h"
#include "merit/crypto/ss58.h"
#include "merit/crypto/wallet.h"
#include "merit/rpc/client.h"
#include "merit/rpc/metagraph.h"
#include "merit/subnet_host/plugin.h"
#include "merit/tx/extrinsic.h"
#include "merit/util/bytes.h"
#include "merit/util/clock.h"
#include "merit/wire/auth.h"
#include "merit/wire/codec.h"

namespace {

using namespace merit;
using nlohmann::json;

int g_failed = 0;
int g_passed = 0;

void check(bool condition, const std::string& what, const std::string& detail = {}) {
  if (condition) {
    ++g_passed;
    std::printf("ok   - %s\n", what.c_str());
  } else {
    ++g_failed;
    std::printf("FAIL - %s%s%s\n", what.c_str(), detail.empty() ? "" : ": ", detail.c_str());
  }
  std::fflush(stdout);
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "hostile_client: %s\n", why.c_str());
  std::exit(2);
}

template <typename T>
T unwrap(Result<T> r, const std::string& what) {
  if (!r) die(what + ": " + r.error().message());
  return std::move(*r);
}

// A raw DEALER connection to an axon. Sends [correlation, payload] and reads the reply.
class RawPeer {
 public:
  RawPeer(zmq::context_t& context, const std::string& endpoint)
      : m_socket(context, zmq::socket_type::dealer) {
    m_socket.set(zmq::sockopt::linger, 0);
    m_socket.connect(endpoint);
  }

  void send(const wire::RequestId& correlation, const zmq::const_buffer& payload) {
    (void)m_socket.send(zmq::buffer(correlation.data(), correlation.size()), zmq::send_flags::sndmore);
    (void)m_socket.send(payload, zmq::send_flags::none);
  }

  // The decoded response to `correlation`, or nullopt when none arrives within `wait`.
  std::optional<wire::Response> receive(const wire::RequestId& correlation, std::chrono::milliseconds wait) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      zmq::pollitem_t item{m_socket.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(50));
      if ((item.revents & ZMQ_POLLIN) == 0) continue;
      std::vector<zmq::message_t> parts;
      for (;;) {
        zmq::message_t m;
        (void)m_socket.recv(m, zmq::recv_flags::none);
        bool more = m.more();
        parts.push_back(std::move(m));
        if (!more) break;
      }
      if (parts.size() != 2 || parts[0].size() != correlation.size() ||
          std::memcmp(parts[0].data(), correlation.data(), correlation.size()) != 0) {
        continue;
      }
      auto decoded = wire::decode(ByteView(static_cast<const std::byte*>(parts[1].data()), parts[1].size()));
      if (!decoded) return std::nullopt;
      if (auto* r = std::get_if<wire::Response>(&*decoded)) return *r;
      return std::nullopt;
    }
    return std::nullopt;
  }

 private:
  zmq::socket_t m_socket;
};

std::string statusOf(const std::optional<wire::Response>& r) {
  return r ? std::string(wire::statusName(r->status)) + (r->message.empty() ? "" : " (" + r->message + ")")
           : "no answer";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) die("usage: hostile_client CHAIN_URL NETUID MINER_UID PLUGIN SUBNET_DIR");
  const std::string url = argv[1];
  const auto netuid = static_cast<tx::NetUid>(std::stoul(argv[2]));
  const auto minerUid = static_cast<std::uint16_t>(std::stoul(argv[3]));
  const std::string pluginName = argv[4];
  const std::vector<std::string> subnetDirs{argv[5]};

  auto client = unwrap(rpc::ChainClient::connect(url), "connect to " + url);
  auto mg = unwrap(rpc::fetchMetagraph(*client, netuid), "metagraph");
  if (minerUid >= mg.neurons.size() || !mg.neurons[minerUid].axon)
    die("uid " + std::to_string(minerUid) + " serves no axon");
  const auto& miner = mg.neurons[minerUid];
  const std::string endpoint = "tcp://" + miner.axon->ip + ":" + std::to_string(miner.axon->port);

  auto validatorKey =
      unwrap(crypto::Wallet(crypto::defaultMeritHome(), "owner").loadHotkey("validator"), "load hotkey");
  auto stranger = crypto::PrivateKey::generate();

  auto plugin = unwrap(subnet::SubnetPlugin::find(pluginName, subnetDirs), "load plugin");
  auto task = unwrap(plugin->create(subnet::Role::kValidator, ""), "create validator instance");

  SystemClock clock;
  // Nonces as the dendrite makes them: wall-clock nanoseconds, strictly increasing.
  std::uint64_t nonce = 0;
  auto makeRequest = [&](const crypto::PrivateKey& key, const Bytes& body) {
    wire::Request r;
    r.header.netuid = netuid;
    r.header.module = plugin->name();
    r.header.moduleVersion = plugin->version();
    crypto::randomBytes(r.header.requestId);
    r.header.caller = key.publicKey();
    r.header.target = miner.hotkeyPublicKey.value();  // either scheme
    r.header.timestampMs = clock.nowUnixMs();
    nonce = std::max(nonce + 1, static_cast<std::uint64_t>(clock.nowUnixMs()) * 1'000'000u);
    r.header.nonce = nonce;
    r.header.timeoutMs = 5000;
    r.header.bodyHash = wire::hashBody(body);
    r.body = body;
    wire::signRequest(r, key);
    return r;
  };
  auto frame = [](const wire::Request& r) { return wire::encode(wire::Message{r}); };
  auto buffer = [](const Bytes& b) { return zmq::const_buffer(b.data(), b.size()); };

  zmq::context_t context;
  RawPeer peer(context, endpoint);
  const auto wait = std::chrono::milliseconds(8000);

  // --- miner ---------------------------------------------------------------------------------
  auto challenge = unwrap(task->makeChallenge(), "challenge");
  auto good = makeRequest(validatorKey, challenge.request);
  Bytes goodFrame = frame(good);
  peer.send(good.header.requestId, buffer(goodFrame));
  auto answer = peer.receive(good.header.requestId, wait);
  double quality = 0;
  if (answer && answer->status == wire::Status::kOk) {
    quality = unwrap(task->scoreResponse(challenge.expectation, answer->body), "score");
  }
  check(answer && answer->status == wire::Status::kOk && quality == 1.0,
        "miner: a well-formed signed request is answered correctly", statusOf(answer));

  peer.send(good.header.requestId, buffer(goodFrame));
  auto replay = peer.receive(good.header.requestId, wait);
  check(replay && replay->status == wire::Status::kStale,
        "miner: the same request replayed is refused (STALE)", statusOf(replay));

  auto forged = makeRequest(validatorKey, challenge.request);
  {
    Bytes sig = toBytes(forged.auth.signature.tagged());
    sig[10] ^= std::byte{0x5a};  // inside r: the tag and length stay valid
    forged.auth.signature = wire::SignatureBytes::fromTagged(sig).value();
  }
  Bytes forgedFrame = frame(forged);
  peer.send(forged.header.requestId, buffer(forgedFrame));
  auto forgedAnswer = peer.receive(forged.header.requestId, wait);
  check(forgedAnswer && forgedAnswer->status == wire::Status::kUnauthorized,
        "miner: a forged signature is refused (UNAUTHORIZED)", statusOf(forgedAnswer));

  auto tampered = makeRequest(validatorKey, challenge.request);
  tampered.body.push_back(std::byte{1});  // body no longer matches the signed hash
  Bytes tamperedFrame = frame(tampered);
  peer.send(tampered.header.requestId, buffer(tamperedFrame));
  auto tamperedAnswer = peer.receive(tampered.header.requestId, wait);
  check(tamperedAnswer && tamperedAnswer->status != wire::Status::kOk,
        "miner: a body changed after signing is refused", statusOf(tamperedAnswer));

  auto unregistered = makeRequest(stranger, challenge.request);
  Bytes unregisteredFrame = frame(unregistered);
  peer.send(unregistered.header.requestId, buffer(unregisteredFrame));
  auto strangerAnswer = peer.receive(unregistered.header.requestId, wait);
  check(strangerAnswer && strangerAnswer->status == wire::Status::kForbidden,
        "miner: a correctly signed request from an unregistered key is refused (FORBIDDEN)",
        statusOf(strangerAnswer));

  wire::RequestId garbageId{};
  crypto::randomBytes(garbageId);
  Bytes garbage(4096);
  crypto::randomBytes(MutableByteView(garbage.data(), garbage.size()));
  peer.send(garbageId, buffer(garbage));
  auto garbageAnswer = peer.receive(garbageId, wait);
  check(garbageAnswer && garbageAnswer->status == wire::Status::kBadRequest,
        "miner: garbage bytes are refused (BAD_REQUEST)", statusOf(garbageAnswer));

  // 24 MiB: above the axon's message limit (16 MiB by default). Refused or dropped, never run.
  auto huge = makeRequest(validatorKey, Bytes(24u << 20, std::byte{7}));
  Bytes hugeFrame = frame(huge);
  peer.send(huge.header.requestId, buffer(hugeFrame));
  auto hugeAnswer = peer.receive(huge.header.requestId, std::chrono::milliseconds(3000));
  check(!hugeAnswer || hugeAnswer->status == wire::Status::kBadRequest,
        "miner: an oversized message is refused or dropped", statusOf(hugeAnswer));

  // After all that, an honest caller on a fresh connection still gets a correct answer.
  RawPeer fresh(context, endpoint);
  auto challenge2 = unwrap(task->makeChallenge(), "challenge");
  auto again = makeRequest(validatorKey, challenge2.request);
  Bytes againFrame = frame(again);
  fresh.send(again.header.requestId, buffer(againFrame));
  auto againAnswer = fresh.receive(again.header.requestId, wait);
  double quality2 = 0;
  if (againAnswer && againAnswer->status == wire::Status::kOk) {
    quality2 = unwrap(task->scoreResponse(challenge2.expectation, againAnswer->body), "score");
  }
  check(againAnswer && againAnswer->status == wire::Status::kOk && quality2 == 1.0,
        "miner: still answers an honest request correctly afterwards", statusOf(againAnswer));

  // --- chain ---------------------------------------------------------------------------------
  const auto host = url.substr(0, url.find('/', url.find("//") + 2));
  httplib::Client http(host);
  http.set_read_timeout(std::chrono::seconds(30));
  auto rpc = [&](const std::string& body) -> json {
    auto res = http.Post("/", body, "application/json");
    if (!res) return json{{"transport_error", httplib::to_string(res.error())}};
    auto parsed = json::parse(res->body, nullptr, false);
    if (parsed.is_discarded()) return json{{"http_status", res->status}, {"raw", res->body.substr(0, 200)}};
    parsed["http_status"] = res->status;
    return parsed;
  };
  auto call = [&](const std::string& method, const json& params) {
    return rpc(json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}}.dump());
  };
  auto balance = [&](const std::string& address) {
    return call("account_get", json::array({address}))["result"]["free"].get<std::uint64_t>();
  };
  auto errorName = [](const json& j) {
    if (j.contains("error") && j["error"].contains("data"))
      return j["error"]["data"].value("name", std::string());
    return j.contains("error") ? j["error"].value("message", std::string()) : std::string("no error");
  };

  const std::string from = crypto::ss58Address(validatorKey.publicKey());
  const auto destKey = crypto::PrivateKey::generate();
  const std::string to = crypto::ss58Address(destKey.publicKey());
  const std::uint64_t fromBefore = balance(from);

  auto garbageJson = rpc("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\"");
  check(garbageJson.contains("error") && garbageJson["error"].value("code", 0) == -32700,
        "chain: malformed JSON is a parse error", garbageJson.dump().substr(0, 200));

  std::string bigBody = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system_health\",\"params\":[\"" +
                        std::string(12u << 20, 'a') + "\"]}";
  auto big = rpc(bigBody);
  check(!big.contains("result"), "chain: a request over the size limit is refused",
        big.dump().substr(0, 200));

  auto garbageXt = call("author_submitExtrinsic", json::array({"0x0102deadbeef"}));
  check(garbageXt.contains("error"), "chain: a garbage extrinsic is refused",
        garbageXt.dump().substr(0, 200));

  // One honest transfer, included.
  auto head = unwrap(client->headNumber(), "head");
  std::uint64_t accountNonce =
      call("account_get", json::array({from}))["result"]["nonce"].get<std::uint64_t>();
  auto transfer = tx::signExtrinsic(validatorKey, client->genesisHash(), accountNonce, head + 64,
                                    tx::Call{tx::Transfer{destKey.publicKey().accountId(), 1'000'000'000}});
  std::string hex = "0x" + toHex(tx::encodeExtrinsic(transfer));
  auto included = call("author_submitAndWait", json::array({hex, 20000}));
  check(included.contains("result") && included["result"].value("status", "") == "included" &&
            included["result"].value("success", false),
        "chain: an honest transfer is included", included.dump().substr(0, 300));

  auto replayed = call("author_submitAndWait", json::array({hex, 5000}));
  check(replayed.contains("error"),
        "chain: the same extrinsic replayed is refused (" + errorName(replayed) + ")",
        replayed.dump().substr(0, 300));

  auto forgedXt = tx::signExtrinsic(validatorKey, client->genesisHash(), accountNonce + 1, head + 64,
                                    tx::Call{tx::Transfer{destKey.publicKey().accountId(), 5'000'000'000}});
  Bytes forgedBytes = tx::encodeExtrinsic(forgedXt);
  forgedBytes[forgedBytes.size() - 20] ^= std::byte{0x33};  // inside the signature
  auto forgedResult = call("author_submitAndWait", json::array({"0x" + toHex(forgedBytes), 5000}));
  check(forgedResult.contains("error"),
        "chain: an extrinsic with a forged signature is refused (" + errorName(forgedResult) + ")",
        forgedResult.dump().substr(0, 300));

  // A validly signed transfer claiming to be from the validator but signed by the stranger:
  // the signer field names the stranger, who has nothing.
  auto poor = tx::signExtrinsic(stranger, client->genesisHash(), 0, head + 64,
                                tx::Call{tx::Transfer{destKey.publicKey().accountId(), 1'000'000'000}});
  auto poorResult =
      call("author_submitAndWait", json::array({"0x" + toHex(tx::encodeExtrinsic(poor)), 10000}));
  bool poorRefused = poorResult.contains("error") ||
                     (poorResult.contains("result") && !poorResult["result"].value("success", true));
  check(poorRefused, "chain: a transfer from an unfunded key moves nothing",
        poorResult.dump().substr(0, 300));

  const std::uint64_t fromAfter = balance(from);
  const std::uint64_t toAfter = balance(to);
  check(toAfter == 1'000'000'000, "chain: the recipient holds exactly the one honest transfer",
        std::to_string(toAfter));
  check(fromBefore - fromAfter >= 1'000'000'000 && fromBefore - fromAfter < 2'000'000'000,
        "chain: the sender paid for the honest transfer only",
        std::to_string(fromBefore) + " -> " + std::to_string(fromAfter));
  auto health = call("system_health", json::array());
  check(health.contains("result") && health["result"].value("ok", false), "chain: still healthy",
        health.dump().substr(0, 200));

  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
