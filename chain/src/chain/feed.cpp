#include "merit/chain/feed.h"

#include <nlohmann/json.hpp>
#include <zmq.h>

#include "merit/util/log.h"

namespace merit::chain {

std::string headerJsonText(const BlockHeader& h, std::size_t extrinsics) {
  nlohmann::json j = {{"number", h.number},
                      {"hash", "0x" + toHex(h.hash())},
                      {"parent_hash", "0x" + toHex(h.parent)},
                      {"timestamp_ms", h.timestampMs},
                      {"state_root", "0x" + toHex(h.stateRoot)},
                      {"extrinsics", extrinsics}};
  return j.dump();
}

Result<std::unique_ptr<BlockFeed>> BlockFeed::bind(const std::string& endpoint) {
  std::unique_ptr<BlockFeed> f(new BlockFeed());
  f->m_context = zmq_ctx_new();
  f->m_socket = zmq_socket(f->m_context, ZMQ_PUB);
  int sndhwm = 1000;  // slow subscribers lose old blocks rather than grow our memory
  zmq_setsockopt(f->m_socket, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm);
  int linger = 0;
  zmq_setsockopt(f->m_socket, ZMQ_LINGER, &linger, sizeof linger);
  if (zmq_bind(f->m_socket, endpoint.c_str()) != 0) {
    return fail(ErrorCode::kUnavailable, "cannot bind block feed on " + endpoint + ": " + zmq_strerror(zmq_errno()));
  }
  char buf[256];
  std::size_t len = sizeof buf;
  if (zmq_getsockopt(f->m_socket, ZMQ_LAST_ENDPOINT, buf, &len) == 0) f->m_endpoint = buf;
  return f;
}

BlockFeed::~BlockFeed() {
  if (m_socket) zmq_close(m_socket);
  if (m_context) zmq_ctx_term(m_context);
}

void BlockFeed::publish(const Block& block) {
  std::string body = headerJsonText(block.header, block.extrinsics.size());
  // PUB never blocks: with no subscriber, or a full queue, the message is dropped.
  if (zmq_send(m_socket, "block", 5, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
      zmq_send(m_socket, body.data(), body.size(), ZMQ_DONTWAIT) < 0) {
    MERIT_LOG_RATE_LIMITED(log::Category::kChain, log::Level::kDebug, "block feed send failed: {}",
                           zmq_strerror(zmq_errno()));
  }
}

}  // namespace merit::chain
