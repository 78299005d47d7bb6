// peer_attack: attacks on a running miner's axon by a peer on the network, for the functional
// tests (forgery_test.sh). Prints one JSON line with what happened and exits 0 when the attack
// was refused as it must be, 1 when it was not, 2 on a usage or setup error.
//
//   peer_attack forge-flood CHAIN_URL NETUID MINER_UID VALIDATOR_UID MODULE SECONDS RATE SOURCE_IP
//     A stranger who knows only the validator's public hotkey floods the miner with fresh
//     requests "from" it (nonces above anything the validator uses, forged signatures), RATE per
//     second for SECONDS, from SOURCE_IP (a loopback address other than 127.0.0.1 stands for
//     another host). Refused as it must be: not one OK and not one signed answer.
//
//   peer_attack junk-miner CHAIN_URL NETUID WALLET HOTKEY SECONDS
//     A registered miner that serves its axon (serve_axon on 127.0.0.1) with a junk streamer
//     (tests/support/zmtp_junk.h): every validator that connects gets messages of thousands of
//     empty frames as fast as the kernel takes them. Prints a ready line, streams for SECONDS,
//     then prints how many connections it served; exit 0 if it was served to someone.
//
//   peer_attack replay-handshake CHAIN_URL NETUID MINER_UID WALLET HOTKEY SOURCE_IP
//     Opens a session as the validator (its hotkey from $MERIT_HOME), then replays the captured
//     handshake bytes six times from SOURCE_IP. Refused as it must be: every replay STALE and
//     unsigned, and the validator's session still authenticates its requests afterwards.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "merit/crypto/keys.h"
#include "merit/crypto/wallet.h"
#include "merit/rpc/client.h"
#include "merit/rpc/metagraph.h"
#include "merit/util/bytes.h"
#include "merit/util/clock.h"
#include "merit/wire/auth.h"
#include "merit/wire/codec.h"

#include "zmtp_junk.h"

namespace {

using namespace merit;
using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "peer_attack: %s\n", why.c_str());
  std::exit(2);
}

template <typename T>
T unwrap(Result<T> r, const std::string& what) {
  if (!r) die(what + ": " + r.error().message());
  return std::move(*r);
}

unsigned long number(const char* text, const char* what) {
  char* end = nullptr;
  const unsigned long v = std::strtoul(text, &end, 10);
  if (end == text || *end != '\0') die(std::string("bad ") + what + ": " + text);
  return v;
}

struct Miner {
  std::string endpoint;  // host:port
  wire::Hotkey hotkey{};
};

Miner minerOf(const std::string& url, unsigned long netuid, unsigned long uid,
              rpc::Metagraph* out = nullptr) {
  auto client = unwrap(rpc::ChainClient::connect(url), "connect to " + url);
  auto mg = unwrap(rpc::fetchMetagraph(*client, static_cast<tx::NetUid>(netuid)), "metagraph");
  if (uid >= mg.neurons.size() || !mg.neurons[uid].axon)
    die("uid " + std::to_string(uid) + " serves no axon");
  Miner m{mg.neurons[uid].axon->ip + ":" + std::to_string(mg.neurons[uid].axon->port),
          wire::Hotkey(mg.neurons[uid].hotkeyPublicKey.value())};
  if (out != nullptr) *out = std::move(mg);
  return m;
}

// A DEALER dialling the miner from `sourceIp`.
zmq::socket_t dial(zmq::context_t& context, const std::string& sourceIp, const std::string& endpoint) {
  zmq::socket_t s(context, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  s.connect(sourceIp.empty() ? "tcp://" + endpoint : "tcp://" + sourceIp + ":0;" + endpoint);
  return s;
}

void sendFrames(zmq::socket_t& s, const wire::RequestId& corr, const Bytes& payload) {
  (void)s.send(zmq::buffer(corr.data(), corr.size()), zmq::send_flags::sndmore);
  (void)s.send(zmq::buffer(payload.data(), payload.size()), zmq::send_flags::none);
}

// One reply (two frames), decoded; nullopt if none within `wait`.
std::optional<wire::Message> receive(zmq::socket_t& s, std::chrono::milliseconds wait) {
  zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, wait) == 0) return std::nullopt;
  zmq::message_t corr;
  zmq::message_t payload;
  (void)s.recv(corr, zmq::recv_flags::none);
  if (!corr.more()) return std::nullopt;
  (void)s.recv(payload, zmq::recv_flags::none);
  while (payload.more()) {
    zmq::message_t rest;
    (void)s.recv(rest, zmq::recv_flags::none);
    if (!rest.more()) break;
  }
  auto m = wire::decode(ByteView(static_cast<const std::byte*>(payload.data()), payload.size()));
  if (!m) return std::nullopt;
  return *m;
}

int forgeFlood(char** argv) {
  const std::string url = argv[0];
  const auto netuid = number(argv[1], "netuid");
  rpc::Metagraph mg;
  const Miner miner = minerOf(url, netuid, number(argv[2], "miner uid"), &mg);
  const auto validatorUid = number(argv[3], "validator uid");
  if (validatorUid >= mg.neurons.size()) die("no validator uid " + std::to_string(validatorUid));
  const wire::Hotkey claimed = mg.neurons[validatorUid].hotkeyPublicKey.value();  // either scheme
  const std::string module = argv[4];
  const auto seconds = number(argv[5], "seconds");
  const auto rate = number(argv[6], "rate");
  const std::string sourceIp = argv[7];

  const auto forger = crypto::PrivateKey::generate();
  SystemClock clock;
  zmq::context_t context(1);
  zmq::socket_t socket = dial(context, sourceIp, miner.endpoint);
  std::map<std::string, std::uint64_t> replies;
  std::uint64_t sent = 0;
  std::uint64_t signedReplies = 0;
  std::uint64_t nonce = UINT64_MAX;  // above anything the validator uses: passes the nonce check
  auto drain = [&](std::chrono::milliseconds wait) {
    while (auto m = receive(socket, wait)) {
      if (const auto* r = std::get_if<wire::Response>(&*m)) {
        ++replies[std::string(wire::statusName(r->status))];
        signedReplies += r->auth.kind != wire::Authenticator::Kind::kNone;
      }
      wait = std::chrono::milliseconds(0);
    }
  };
  const auto start = SteadyClock::now();
  const auto end = start + std::chrono::seconds(seconds);
  while (SteadyClock::now() < end) {
    // Paced: RATE per second in 1 ms slices (a steady stream, as a real flood), the same on a fast
    // or slow machine.
    const double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
    while (static_cast<double>(sent) < elapsed * static_cast<double>(rate)) {
      wire::Request r;
      r.header.netuid = static_cast<std::uint16_t>(netuid);
      r.header.module = module;
      r.header.moduleVersion = 1;
      crypto::randomBytes(r.header.requestId);
      r.header.target = miner.hotkey;
      r.header.timestampMs = clock.nowUnixMs();
      r.header.nonce = nonce--;
      r.header.timeoutMs = 5000;
      r.body = toBytes("forged");
      r.header.bodyHash = wire::hashBody(r.body);
      r.header.caller = forger.publicKey();
      wire::signRequest(r, forger);  // a valid signature, by the wrong key
      r.header.caller = claimed;
      Bytes frame = wire::encode(wire::Message{r});
      if (!socket.send(zmq::buffer(r.header.requestId.data(), r.header.requestId.size()),
                       zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
        break;  // our own queue is full: drain first
      }
      (void)socket.send(zmq::buffer(frame.data(), frame.size()), zmq::send_flags::none);
      ++sent;
    }
    drain(std::chrono::milliseconds(1));
  }
  drain(std::chrono::milliseconds(1000));
  std::string byStatus;
  for (const auto& [status, n] : replies)
    byStatus += (byStatus.empty() ? "" : ",") + ("\"" + status + "\":" + std::to_string(n));
  const bool refused = replies["OK"] == 0 && signedReplies == 0 && sent > 0;
  std::printf("{\"sent\":%llu,\"signed_replies\":%llu,\"replies\":{%s},\"refused\":%s}\n",
              static_cast<unsigned long long>(sent), static_cast<unsigned long long>(signedReplies),
              byStatus.c_str(), refused ? "true" : "false");
  return refused ? 0 : 1;
}

int junkMiner(char** argv) {
  const std::string url = argv[0];
  const auto netuid = static_cast<tx::NetUid>(number(argv[1], "netuid"));
  auto key = unwrap(crypto::Wallet(crypto::defaultMeritHome(), argv[2]).loadHotkey(argv[3]), "load hotkey");
  const auto seconds = number(argv[4], "seconds");
  test::JunkStreamer junk(test::JunkStreamer::Kind::kManyFrames, std::chrono::seconds(seconds + 30));
  auto client = unwrap(rpc::ChainClient::connect(url), "connect to " + url);
  tx::ServeAxon call{};
  call.netuid = netuid;
  call.version = 1;
  call.port = junk.port();
  call.ipType = 4;
  call.ip[12] = 127;
  call.ip[15] = 1;
  call.protocol = 0;
  auto sub = unwrap(client->submit(key, tx::Call{call}), "serve_axon");
  if (!sub.included || !sub.success) die("serve_axon failed: " + sub.errorText());
  std::printf("{\"event\":\"ready\",\"axon\":\"%s\",\"block\":%llu}\n", junk.endpoint().c_str(),
              static_cast<unsigned long long>(sub.block));
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  std::printf("{\"connections\":%d,\"bytes_written\":%llu}\n", junk.accepted(),
              static_cast<unsigned long long>(junk.bytesWritten()));
  return junk.accepted() > 0 ? 0 : 1;
}

int replayHandshake(char** argv) {
  const std::string url = argv[0];
  const auto netuid = number(argv[1], "netuid");
  const Miner miner = minerOf(url, netuid, number(argv[2], "miner uid"));
  auto key = unwrap(crypto::Wallet(crypto::defaultMeritHome(), argv[3]).loadHotkey(argv[4]), "load hotkey");
  const std::string sourceIp = argv[5];
  const auto target = unwrap(miner.hotkey.toPublicKey(), "miner hotkey");
  SystemClock clock;
  zmq::context_t context(1);

  // The validator's handshake, whose bytes an eavesdropper captures.
  wire::SessionInit init;
  init.caller = key.publicKey();
  init.target = miner.hotkey;
  init.timestampMs = clock.nowUnixMs();
  crypto::randomBytes(init.clientNonce);
  const wire::EphemeralKeyPair ephemeral = wire::EphemeralKeyPair::generate();
  init.clientEphemeral = ephemeral.publicKey;
  wire::signSessionInit(init, key);
  const Bytes captured = wire::encode(wire::Message{init});
  zmq::socket_t validator = dial(context, "", miner.endpoint);
  wire::RequestId corr{};
  crypto::randomBytes(corr);
  sendFrames(validator, corr, captured);
  auto first = receive(validator, std::chrono::milliseconds(8000));
  const auto* accept = first ? std::get_if<wire::SessionReply>(&*first) : nullptr;
  if (accept == nullptr || accept->status != wire::Status::kOk)
    die("the validator's own handshake was not accepted");
  if (!wire::verifySessionAccept(*accept, init.caller, init.clientEphemeral, target))
    die("the axon's session accept does not verify");
  const auto sessionKey =
      unwrap(wire::deriveSessionKey(ephemeral.secretKey, accept->serverEphemeral,
                                    wire::SessionTranscript{init.caller, init.target, ephemeral.publicKey,
                                                            accept->serverEphemeral, init.clientNonce,
                                                            accept->serverNonce, accept->sessionId}),
             "session key");

  int refusedUnsigned = 0;
  std::string seen;
  for (int i = 0; i < 6; ++i) {
    zmq::socket_t attacker = dial(context, sourceIp, miner.endpoint);
    sendFrames(attacker, corr, captured);
    auto reply = receive(attacker, std::chrono::milliseconds(8000));
    const auto* r = reply ? std::get_if<wire::SessionReply>(&*reply) : nullptr;
    seen += std::string(seen.empty() ? "" : ",") + "\"" +
            (r ? std::string(wire::statusName(r->status)) : "none") + (r && r->isSigned ? " signed" : "") +
            "\"";
    refusedUnsigned += r != nullptr && r->status == wire::Status::kStale && !r->isSigned;
  }

  // The validator's session still authenticates its requests.
  wire::Request request;
  request.header.netuid = static_cast<std::uint16_t>(netuid);
  request.header.module = "session-check";
  request.header.moduleVersion = 1;
  crypto::randomBytes(request.header.requestId);
  request.header.caller = init.caller;
  request.header.target = miner.hotkey;
  request.header.timestampMs = clock.nowUnixMs();
  request.header.nonce = static_cast<std::uint64_t>(clock.nowUnixMs()) * 1'000'000u;
  request.header.timeoutMs = 5000;
  request.header.bodyHash = wire::hashBody(request.body);
  wire::macRequest(request, sessionKey, accept->sessionId);
  sendFrames(validator, request.header.requestId, wire::encode(wire::Message{request}));
  auto answer = receive(validator, std::chrono::milliseconds(8000));
  const auto* resp = answer ? std::get_if<wire::Response>(&*answer) : nullptr;
  // An unknown module is answered NOT_FOUND, MACed with the session key: the session is alive.
  const bool sessionAlive = resp != nullptr && resp->auth.kind == wire::Authenticator::Kind::kSessionMac &&
                            wire::verifyResponseMac(*resp, init.caller, init.target, sessionKey).has_value();
  const bool refused = refusedUnsigned == 6 && sessionAlive;
  std::printf("{\"replays\":[%s],\"session_alive\":%s,\"session_answer\":\"%s\",\"refused\":%s}\n",
              seen.c_str(), sessionAlive ? "true" : "false",
              resp ? std::string(wire::statusName(resp->status)).c_str() : "none",
              refused ? "true" : "false");
  return refused ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "forge-flood" && argc == 10) return forgeFlood(argv + 2);
  if (mode == "replay-handshake" && argc == 8) return replayHandshake(argv + 2);
  if (mode == "junk-miner" && argc == 7) return junkMiner(argv + 2);
  die("usage: peer_attack forge-flood CHAIN_URL NETUID MINER_UID VALIDATOR_UID MODULE SECONDS RATE "
      "SOURCE_IP\n"
      "       peer_attack replay-handshake CHAIN_URL NETUID MINER_UID WALLET HOTKEY SOURCE_IP\n"
      "       peer_attack junk-miner CHAIN_URL NETUID WALLET HOTKEY SECONDS");
}
