#include "zap_handler.h"

#include <cstring>
#include <string>
#include <vector>

#include "merit/util/log.h"

namespace merit::net {

namespace {

constexpr int kPollMs = 100;             // how often the thread checks for stop
constexpr std::size_t kMaxZapFrames = 16;  // a CURVE request has 7; anything longer is refused

std::string text(const zmq::message_t& m) { return std::string(static_cast<const char*>(m.data()), m.size()); }

}  // namespace

Result<std::unique_ptr<ZapHandler>> ZapHandler::start(zmq::context_t& context, Authorizer authorizer,
                                                      std::atomic<std::uint64_t>& refused) {
  if (!authorizer) return fail(ErrorCode::kInvalidArgument, "a ZAP handler needs an authorizer");
  try {
    zmq::socket_t socket(context, zmq::socket_type::rep);
    socket.set(zmq::sockopt::linger, 0);
    socket.bind("inproc://zeromq.zap.01");
    std::unique_ptr<ZapHandler> handler(new ZapHandler(std::move(socket), std::move(authorizer), refused));
    // The socket moves to the thread here; thread creation is the memory barrier ZeroMQ asks for.
    handler->m_thread = std::thread([h = handler.get()] { h->run(); });
    return handler;
  } catch (const zmq::error_t& e) {
    return fail(ErrorCode::kInternal, std::string("cannot bind the ZAP handler: ") + e.what());
  }
}

ZapHandler::ZapHandler(zmq::socket_t socket, Authorizer authorizer, std::atomic<std::uint64_t>& refused)
    : m_socket(std::move(socket)), m_authorizer(std::move(authorizer)), m_refused(refused) {}

ZapHandler::~ZapHandler() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
}

void ZapHandler::run() {
  try {
    while (!m_stop.load()) {
      zmq::pollitem_t item{m_socket.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(kPollMs));
      if (item.revents & ZMQ_POLLIN) answerOne();
    }
  } catch (const std::exception& e) {
    // libzmq failed underneath us; without answers every CURVE handshake waits and fails.
    MERIT_LOG_ERROR(log::Category::kNet, "ZAP handler stopped: {}", e.what());
  }
  m_socket.close();
}

// One request: version, request id, domain, address, identity, mechanism, credentials...
// One reply: version, request id, status code, status text, user id, metadata.
void ZapHandler::answerOne() {
  std::vector<zmq::message_t> frames;
  bool more = true;
  while (more) {
    zmq::message_t m;
    if (!m_socket.recv(m, zmq::recv_flags::none)) return;
    more = m.more();
    if (frames.size() < kMaxZapFrames) frames.push_back(std::move(m));
  }
  bool allowed = false;
  std::string why = "refused";
  if (frames.size() >= 7 && text(frames[0]) == "1.0" && text(frames[5]) == "CURVE" && frames[6].size() == 32) {
    ByteArray<32> key{};
    std::memcpy(key.data(), frames[6].data(), key.size());
    try {
      allowed = m_authorizer(key);
    } catch (const std::exception& e) {
      MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kWarn, "CURVE client authorizer threw: {}", e.what());
    }
    if (!allowed) why = "client key not admitted";
  } else {
    why = "only CURVE clients are admitted";
  }
  if (!allowed) {
    ++m_refused;
    MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug, "ZAP: refused a handshake from {}: {}",
                           frames.size() > 3 ? text(frames[3]) : std::string("?"), why);
  }
  const std::string requestId = frames.size() > 1 ? text(frames[1]) : std::string();
  const std::string status = allowed ? "200" : "400";
  const std::string statusText = allowed ? "OK" : why;
  m_socket.send(zmq::buffer(std::string_view("1.0")), zmq::send_flags::sndmore);
  m_socket.send(zmq::buffer(requestId), zmq::send_flags::sndmore);
  m_socket.send(zmq::buffer(status), zmq::send_flags::sndmore);
  m_socket.send(zmq::buffer(statusText), zmq::send_flags::sndmore);
  m_socket.send(zmq::buffer(std::string_view()), zmq::send_flags::sndmore);  // user id
  m_socket.send(zmq::buffer(std::string_view()), zmq::send_flags::none);     // metadata
}

}  // namespace merit::net
