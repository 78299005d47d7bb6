#include "merit/rpc/block_feed.h"

#include <string_view>
#include <thread>

#include <zmq.h>

namespace merit::rpc {

namespace {
constexpr std::string_view kTopic = "block";
// A header's JSON is a few hundred bytes; a longer frame is not one and is skipped.
constexpr std::size_t kMaxFrame = 4096;
}  // namespace

BlockFeed::BlockFeed(const std::string& endpoint) {
  if (endpoint.empty()) return;
  m_context = zmq_ctx_new();
  void* sub = zmq_socket(m_context, ZMQ_SUB);
  int linger = 0;
  zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(sub, ZMQ_SUBSCRIBE, kTopic.data(), kTopic.size());
  if (zmq_connect(sub, endpoint.c_str()) != 0) {
    m_error = zmq_strerror(zmq_errno());
    zmq_close(sub);
    return;
  }
  m_socket = sub;
}

BlockFeed::~BlockFeed() {
  if (m_socket != nullptr) zmq_close(m_socket);
  if (m_context != nullptr) zmq_ctx_term(m_context);
}

std::optional<std::string> BlockFeed::waitNewest(std::chrono::milliseconds timeout) {
  if (m_socket == nullptr) {
    std::this_thread::sleep_for(timeout);
    return std::nullopt;
  }
  zmq_pollitem_t item{m_socket, 0, ZMQ_POLLIN, 0};
  if (zmq_poll(&item, 1, static_cast<long>(timeout.count())) <= 0) return std::nullopt;
  std::optional<std::string> newest;
  char buf[kMaxFrame];
  int n = 0;
  // Two frames per block: the topic, then the header. Only the newest header matters.
  while ((n = zmq_recv(m_socket, buf, sizeof buf, ZMQ_DONTWAIT)) >= 0) {
    auto size = static_cast<std::size_t>(n);
    if (size > sizeof buf || std::string_view(buf, size) == kTopic) continue;
    newest.emplace(buf, size);
  }
  return newest;
}

}  // namespace merit::rpc
