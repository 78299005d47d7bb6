// A PUB-like ZMTP server: announces messages of two frames (topic, body) to libzmq SUB
// subscribers, and takes nothing from them but bounded subscriptions.
//
// It runs our own ZMTP engine over a ZMQ_STREAM socket (src/net/zmtp.h), so a subscriber can
// make the publisher hold at most one subscription command and a bounded queue of outgoing
// messages: anything else it sends (a message, a frame over the limit, too many subscriptions)
// disconnects it. A slow subscriber loses messages once its queue is full; nobody else waits.
//
// Thread-safety: publish() and stats() may be called from any thread. One I/O thread, started by
// bind() and joined by the destructor, owns the socket and the subscriber table.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit::net {

struct PublisherConfig {
  std::size_t maxSubscribers = 1024;
  std::size_t maxSubscribersPerAddress = 64;
  std::size_t maxSubscriptions = 16;  // per subscriber
  std::size_t maxTopicBytes = 64;     // per subscription
  int queuedPerSubscriber = 100;      // whole messages waiting for one slow subscriber
  std::size_t maxPending = 64;        // publish() calls not yet handed to the I/O thread
};

struct PublisherStats {
  std::size_t subscribers = 0;     // connected now, handshake done
  std::uint64_t published = 0;     // publish() calls accepted
  std::uint64_t delivered = 0;     // messages queued to a subscriber
  std::uint64_t dropped = 0;       // to a full subscriber, or publish() queue full
  std::uint64_t disconnected = 0;  // subscribers closed for breaking the protocol or a limit
};

class Publisher {
 public:
  // Binds (e.g. "tcp://127.0.0.1:*") and starts the I/O thread. kUnavailable if it cannot bind.
  static Result<std::unique_ptr<Publisher>> bind(const std::string& endpoint, PublisherConfig config = {});
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // The endpoint actually bound (resolves a wildcard port).
  const std::string& endpoint() const;
  // Queues [topic][body] for every subscriber with a subscription that is a prefix of `topic`.
  // Never blocks; false if the hand-over queue is full (the message is dropped).
  bool publish(std::string_view topic, ByteView body);
  PublisherStats stats() const;

  class Impl;

 private:
  explicit Publisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace merit::net
