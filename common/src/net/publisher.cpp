#include "merit/net/publisher.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "merit/util/log.h"

#include "zmtp.h"

namespace merit::net {

namespace {
constexpr int kPollIntervalMs = 100;  // how often the I/O thread checks for stop and timeouts
constexpr std::size_t kMaxChunksPerWake = 256;
}  // namespace

class Publisher::Impl {
 public:
  explicit Impl(PublisherConfig config) : m_config(config), m_context(1) {}

  ~Impl() {
    m_stop = true;
    wake();
    if (m_thread.joinable()) m_thread.join();
    m_server.reset();
    if (m_eventFd >= 0) ::close(m_eventFd);
  }

  Result<void> open(const std::string& endpoint) {
    auto options = std::make_shared<zmtp::Options>();
    options->role = zmtp::Role::kServer;
    options->socketType = "PUB";
    options->peerTypes = {"SUB", "XSUB"};
    options->publisher = true;
    options->limits.maxFrameBytes = 1 + m_config.maxTopicBytes;
    options->limits.maxMessageFrames = 1;
    options->limits.maxMessageBytes = 1 + m_config.maxTopicBytes;
    options->limits.maxCommandBytes = 16 + m_config.maxTopicBytes;
    zmtp::ServerConfig server;
    server.engine = std::move(options);
    server.maxConnections = m_config.maxSubscribers;
    server.maxConnectionsPerAddress = m_config.maxSubscribersPerAddress;
    server.maxBufferedBytes = m_config.maxSubscribers * (m_config.maxTopicBytes + 16);
    server.sendQueueMessages = m_config.queuedPerSubscriber;
    server.receiveQueueChunks = 4;
    MERIT_ASSIGN_OR_RETURN(m_server, zmtp::StreamServer::bind(m_context, endpoint, std::move(server)));
    m_eventFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_eventFd < 0) return fail(ErrorCode::kInternal, std::string("eventfd: ") + std::strerror(errno));
    m_thread = std::thread([this] { run(); });
    return {};
  }

  const std::string& endpoint() const { return m_server->endpoint(); }

  bool publish(std::string_view topic, ByteView body) {
    {
      std::lock_guard lock(m_mutex);
      if (m_pending.size() >= m_config.maxPending) {
        ++m_dropped;
        return false;
      }
      Item item;
      item.topic = toBytes(topic);
      item.body.assign(body.begin(), body.end());
      m_pending.push_back(std::move(item));
    }
    ++m_published;
    wake();
    return true;
  }

  PublisherStats stats() const {
    PublisherStats s;
    s.subscribers = m_subscriberCount.load();
    s.published = m_published.load();
    s.delivered = m_delivered.load();
    s.dropped = m_dropped.load();
    s.disconnected = m_disconnected.load();
    return s;
  }

 private:
  struct Item {
    Bytes topic;
    Bytes body;
  };

  void wake() {
    if (m_eventFd < 0) return;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(m_eventFd, &one, sizeof one);
  }

  void run() {
    try {
      while (!m_stop) {
        zmq::pollitem_t items[] = {{m_server->socket().handle(), 0, ZMQ_POLLIN, 0},
                                   {nullptr, m_eventFd, ZMQ_POLLIN, 0}};
        zmq::poll(items, 2, std::chrono::milliseconds(kPollIntervalMs));
        if (items[1].revents & ZMQ_POLLIN) {
          std::uint64_t counter = 0;
          [[maybe_unused]] auto n = ::read(m_eventFd, &counter, sizeof counter);
        }
        if (items[0].revents & ZMQ_POLLIN) {
          m_server->receive(kMaxChunksPerWake, [this](const zmtp::PeerInfo& peer, zmtp::Message&& m) {
            onSubscription(peer, m);
          });
        }
        m_server->tick();
        forgetGone();
        deliverPending();
        const auto s = m_server->stats();
        m_disconnected = s.disconnected;
      }
    } catch (const std::exception& e) {
      MERIT_LOG_ERROR(log::Category::kNet, "publisher {}: I/O thread stopped: {}", m_server->endpoint(),
                      e.what());
    }
  }

  // A message [1|0, topic] from a subscriber (the engine accepts nothing else from it).
  void onSubscription(const zmtp::PeerInfo& peer, const zmtp::Message& m) {
    const Bytes& frame = m.front();
    const bool subscribe = frame[0] == std::byte{1};
    Bytes topic(frame.begin() + 1, frame.end());
    auto& subs = m_subscriptions[peer.id];
    if (!subscribe) {
      subs.erase(topic);
      return;
    }
    if (topic.size() > m_config.maxTopicBytes ||
        (subs.size() >= m_config.maxSubscriptions && subs.count(topic) == 0)) {
      MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug,
                             "publisher {}: disconnecting {}: too many or too long subscriptions", endpoint(),
                             peer.address);
      m_subscriptions.erase(peer.id);
      m_server->disconnect(peer.id);
      return;
    }
    subs.insert(std::move(topic));
  }

  void forgetGone() {
    const auto ready = m_server->readyPeers();
    const std::set<std::string> live(ready.begin(), ready.end());
    std::erase_if(m_subscriptions, [&live](const auto& kv) { return live.count(kv.first) == 0; });
    m_subscriberCount = live.size();
  }

  void deliverPending() {
    std::deque<Item> batch;
    {
      std::lock_guard lock(m_mutex);
      batch.swap(m_pending);
    }
    for (const Item& item : batch) {
      const ByteView frames[] = {ByteView(item.topic), ByteView(item.body)};
      for (const auto& [peer, subs] : m_subscriptions) {
        bool match = false;
        for (const Bytes& s : subs) {
          if (s.size() <= item.topic.size() && std::equal(s.begin(), s.end(), item.topic.begin())) {
            match = true;
            break;
          }
        }
        if (!match) continue;
        if (m_server->send(peer, frames)) {
          ++m_delivered;
        } else {
          ++m_dropped;
        }
      }
    }
  }

  const PublisherConfig m_config;
  zmq::context_t m_context;
  std::unique_ptr<zmtp::StreamServer> m_server;            // owned by the I/O thread once it runs
  std::map<std::string, std::set<Bytes>> m_subscriptions;  // I/O thread
  int m_eventFd = -1;
  std::thread m_thread;
  std::atomic<bool> m_stop{false};

  std::mutex m_mutex;
  std::deque<Item> m_pending;  // guarded by m_mutex, at most maxPending

  std::atomic<std::size_t> m_subscriberCount{0};
  std::atomic<std::uint64_t> m_published{0};
  std::atomic<std::uint64_t> m_delivered{0};
  std::atomic<std::uint64_t> m_dropped{0};
  std::atomic<std::uint64_t> m_disconnected{0};
};

Publisher::Publisher(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Publisher::~Publisher() = default;

Result<std::unique_ptr<Publisher>> Publisher::bind(const std::string& endpoint, PublisherConfig config) {
  if (config.maxSubscribers == 0 || config.maxSubscriptions == 0 || config.maxPending == 0 ||
      config.queuedPerSubscriber <= 0) {
    return fail(ErrorCode::kInvalidArgument, "publisher limits must be positive");
  }
  auto impl = std::make_unique<Impl>(config);
  MERIT_TRY(impl->open(endpoint));
  return std::unique_ptr<Publisher>(new Publisher(std::move(impl)));
}

const std::string& Publisher::endpoint() const {
  return m_impl->endpoint();
}
bool Publisher::publish(std::string_view topic, ByteView body) {
  return m_impl->publish(topic, body);
}
PublisherStats Publisher::stats() const {
  return m_impl->stats();
}

}  // namespace merit::net
