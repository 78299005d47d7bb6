// The JSON-RPC transport over Boost.Beast/Asio. This is the only translation unit that includes
// Boost; everything in it except the public entry points runs on the client's I/O thread.
#include "merit/substrate/jsonrpc.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "merit/util/assert.h"
#include "merit/util/log.h"

namespace merit::substrate {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using Completion = std::function<void(Result<Json>)>;

constexpr auto kLog = log::Category::kChain;
constexpr std::string_view kRpcErrorPrefix = "rpc error ";

struct ParsedUrl {
  bool websocket = true;
  std::string host;
  std::string port;
  std::string path;
  std::string hostHeader;  // host[:port] as written, for the Host header
};

Result<ParsedUrl> parseUrl(const std::string& url) {
  const auto bad = [&](std::string_view why) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("bad node url '{}': {} (expected ws://host:port[/path] or "
                            "http://host:port[/path])",
                            url, why));
  };
  const auto sep = url.find("://");
  if (sep == std::string::npos) return bad("no scheme");
  std::string scheme = url.substr(0, sep);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme == "wss" || scheme == "https") {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("TLS is not supported: run a local node or a TLS-terminating proxy "
                            "(url '{}')",
                            url));
  }
  ParsedUrl out;
  if (scheme == "ws") {
    out.websocket = true;
  } else if (scheme == "http") {
    out.websocket = false;
  } else {
    return bad("unknown scheme '" + scheme + "'");
  }
  const std::string rest = url.substr(sep + 3);
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.empty()) return bad("no host");
  out.hostHeader = authority;
  std::string portText;
  if (authority.front() == '[') {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string::npos) return bad("unterminated [IPv6] host");
    out.host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after [IPv6] host");
      portText = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) portText = authority.substr(colon + 1);
  }
  if (out.host.empty()) return bad("no host");
  if (portText.empty()) {
    out.port = "80";
  } else {
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
    if (ec != std::errc() || end != portText.data() + portText.size() || port == 0 || port > 65535) {
      return bad("bad port '" + portText + "'");
    }
    out.port = portText;
  }
  return out;
}

// The answer of one JSON-RPC response object: its "result", or its "error" as kInvalidArgument
// "rpc error <code>: <message>[ (data: <json>)]".
Result<Json> resultOf(Json& response) {
  if (const auto error = response.find("error"); error != response.end()) {
    std::int64_t code = 0;
    std::string message = "(no message)";
    if (error->is_object()) {
      if (const auto c = error->find("code"); c != error->end() && c->is_number_integer()) {
        code = c->get<std::int64_t>();
      }
      if (const auto m = error->find("message"); m != error->end() && m->is_string()) {
        message = m->get<std::string>();
      }
    }
    std::string text = fmt::format("{}{}: {}", kRpcErrorPrefix, code, message);
    if (error->is_object()) {
      if (const auto d = error->find("data"); d != error->end() && !d->is_null()) {
        std::string data = d->is_string() ? d->get<std::string>() : d->dump();
        if (data.size() > 2000) data = data.substr(0, 2000) + "...";
        text += " (data: " + data + ")";
      }
    }
    return fail(ErrorCode::kInvalidArgument, std::move(text));
  }
  if (const auto result = response.find("result"); result != response.end()) {
    return std::move(*result);
  }
  return fail(ErrorCode::kCorruption, "malformed JSON-RPC response: neither result nor error");
}

// JSON-RPC 2.0 has no null params, and a node may drop such a request without an answer (seen
// with Chopsticks): null (what `{}` in a braced list gives) is sent as [].
Json requestObject(std::uint64_t id, const std::string& method, const Json& params) {
  return Json{{"jsonrpc", "2.0"},
              {"id", id},
              {"method", method},
              {"params", params.is_null() ? Json::array() : params}};
}

std::string requestText(std::uint64_t id, const std::string& method, const Json& params) {
  return requestObject(id, method, params).dump();
}

bool isTransportError(const Error& e) {
  return e.code() == ErrorCode::kUnavailable || e.code() == ErrorCode::kDeadlineExceeded;
}

long long msOf(std::chrono::milliseconds d) {
  return static_cast<long long>(d.count());
}

// Where callers wait: one slot per call of a call()/callMany(), filled by the I/O thread.
struct Waiter {
  explicit Waiter(std::size_t n) : results(n), remaining(n) {}
  void set(std::size_t i, Result<Json> r) {
    std::lock_guard lock(mutex);
    if (results[i]) return;
    results[i] = std::move(r);
    if (--remaining == 0) cv.notify_all();
  }
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::optional<Result<Json>>> results;  // guarded by mutex
  std::size_t remaining;                             // guarded by mutex
};

struct Pending {
  Completion done;
  Clock::time_point deadline;
};

struct WsConn {
  explicit WsConn(asio::io_context& ioc) : ws(ioc), resolver(ioc) {}
  void close() {
    resolver.cancel();
    beast::error_code ec;
    beast::get_lowest_layer(ws).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws).close();
  }
  websocket::stream<beast::tcp_stream> ws;
  tcp::resolver resolver;
  beast::flat_buffer buffer;
  std::deque<std::string> writeQueue;  // front() is being written when `writing`
  bool writing = false;
  bool pinging = false;  // an async_ping is outstanding (Beast allows one)
  bool open = false;     // handshake done
  bool awaitingPong = false;
  Clock::time_point pingSentAt;
  Clock::time_point lastActivity;  // last frame received
};

struct HttpConn {
  explicit HttpConn(asio::io_context& ioc) : stream(ioc), resolver(ioc) {}
  void close() {
    resolver.cancel();
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
  }
  beast::tcp_stream stream;
  tcp::resolver resolver;
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  std::optional<http::response_parser<http::string_body>> parser;
  bool open = false;
};

struct HttpJob {
  std::string body;
  Clock::time_point deadline;
  std::function<void(Result<Json>)> done;  // the whole response body (object or batch array)
  bool retried = false;
};

struct Subscription {
  std::string method;
  Json params;
  std::string unsubscribeMethod;
  std::function<void(const Json&)> onItem;
  std::function<void(const Error&)> onEnd;
  bool resubscribe = false;
  std::optional<std::string> serverKey;  // the node's subscription id (dumped JSON) while live
  Json serverId;
};

}  // namespace

std::optional<std::int64_t> rpcErrorCode(const Error& error) {
  if (error.code() != ErrorCode::kInvalidArgument) return std::nullopt;
  const std::string& m = error.message();
  if (m.rfind(kRpcErrorPrefix, 0) != 0) return std::nullopt;
  std::int64_t code = 0;
  const char* begin = m.data() + kRpcErrorPrefix.size();
  const auto [end, ec] = std::from_chars(begin, m.data() + m.size(), code);
  if (ec != std::errc() || end == m.data() + m.size() || *end != ':') return std::nullopt;
  return code;
}

class RpcClient::Impl {
 public:
  Impl(ParsedUrl url, std::string urlText, RpcOptions options)
      : m_url(std::move(url)),
        m_urlText(std::move(urlText)),
        m_options(options),
        m_work(asio::make_work_guard(m_ioc)),
        m_tickTimer(m_ioc),
        m_redialTimer(m_ioc),
        m_backoff(options.reconnect) {}

  ~Impl() {
    if (!m_thread.joinable()) return;
    MERIT_ASSERT(!onIoThread(), "RpcClient destroyed from one of its own callbacks");
    asio::post(m_ioc, [this] { shutdown(); });
    m_thread.join();
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Starts the I/O thread and waits up to connectTimeout for the first connection.
  Result<void> start() {
    std::promise<Result<void>> first;
    auto firstResult = first.get_future();
    m_firstDial = std::move(first);
    m_thread = std::thread([this] {
      m_ioThreadId.store(std::this_thread::get_id());
      m_ioc.run();
    });
    asio::post(m_ioc, [this] {
      armTick();
      if (m_url.websocket) {
        dialWs();
      } else {
        httpDial(Clock::now() + m_options.connectTimeout, [this](Result<void> r) {
          completeFirstDial(std::move(r));
          httpPump();
        });
      }
    });
    // The dial itself is bounded by connectTimeout; the slack covers a loaded machine.
    if (firstResult.wait_for(m_options.connectTimeout + std::chrono::milliseconds(500)) !=
        std::future_status::ready) {
      return fail(ErrorCode::kDeadlineExceeded, fmt::format("could not connect to {} within {} ms", m_urlText,
                                                            msOf(m_options.connectTimeout)));
    }
    return firstResult.get();
  }

  Result<std::vector<Result<Json>>> request(std::vector<std::pair<std::string, Json>> calls,
                                            std::chrono::milliseconds timeout) {
    if (onIoThread()) {
      return fail(ErrorCode::kInternal,
                  "RpcClient called from its own I/O thread (a callback): hand the work to "
                  "another thread");
    }
    const std::size_t n = calls.size();
    if (n == 0) return std::vector<Result<Json>>{};
    m_calls.fetch_add(n);
    m_roundTrips.fetch_add(1);
    const auto deadline = Clock::now() + timeout;
    auto waiter = std::make_shared<Waiter>(n);
    std::vector<std::uint64_t> ids(n);
    for (auto& id : ids) id = m_nextId.fetch_add(1);

    if (m_url.websocket) {
      if (!m_connected.load()) {
        m_failures.fetch_add(n);
        return fail(notConnected());
      }
      auto frames = std::make_shared<std::vector<std::string>>();
      frames->reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        frames->push_back(requestText(ids[i], calls[i].first, calls[i].second));
      }
      asio::post(m_ioc, [this, waiter, frames, ids, deadline] {
        if (!m_conn || !m_conn->open || m_stopping) {
          for (std::size_t i = 0; i < ids.size(); ++i) waiter->set(i, fail(notConnected()));
          return;
        }
        for (std::size_t i = 0; i < ids.size(); ++i) {
          m_pending.emplace(ids[i],
                            Pending{[waiter, i](Result<Json> r) { waiter->set(i, std::move(r)); }, deadline});
          send(std::move((*frames)[i]));
        }
      });
    } else {
      std::string body;
      if (n == 1) {
        body = requestText(ids[0], calls[0].first, calls[0].second);
      } else {
        Json batch = Json::array();
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(requestObject(ids[i], calls[i].first, calls[i].second));
        }
        body = batch.dump();
      }
      auto done = [waiter, ids](Result<Json> response) {
        const std::size_t count = ids.size();
        if (!response) {
          for (std::size_t i = 0; i < count; ++i) waiter->set(i, fail(response.error()));
          return;
        }
        if (response->is_array()) {
          std::unordered_map<std::uint64_t, Json*> byId;
          for (auto& item : *response) {
            if (!item.is_object()) continue;
            const auto id = item.find("id");
            if (id != item.end() && id->is_number_unsigned()) byId[id->get<std::uint64_t>()] = &item;
          }
          for (std::size_t i = 0; i < count; ++i) {
            const auto it = byId.find(ids[i]);
            waiter->set(i, it == byId.end() ? Result<Json>(fail(ErrorCode::kCorruption,
                                                                "the node's batch answer lacks a request"))
                                            : resultOf(*it->second));
          }
        } else if (response->is_object()) {
          // One answer for one call, or an error for the whole batch (e.g. batch too large).
          for (std::size_t i = 0; i < count; ++i) {
            Json copy = i + 1 == count ? std::move(*response) : *response;
            waiter->set(i, resultOf(copy));
          }
        } else {
          for (std::size_t i = 0; i < count; ++i) {
            waiter->set(i, fail(ErrorCode::kCorruption, "the node answered neither an object nor an array"));
          }
        }
      };
      auto job = std::make_shared<HttpJob>(HttpJob{std::move(body), deadline, std::move(done)});
      asio::post(m_ioc, [this, job] {
        if (m_stopping) {
          job->done(fail(ErrorCode::kUnavailable, "client closed"));
          return;
        }
        m_httpQueue.push_back(std::move(*job));
        httpPump();
      });
    }

    std::unique_lock lock(waiter->mutex);
    waiter->cv.wait_until(lock, deadline, [&] { return waiter->remaining == 0; });
    std::vector<Result<Json>> out;
    out.reserve(n);
    std::optional<Error> transport;
    std::uint64_t failed = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (waiter->results[i]) {
        out.push_back(std::move(*waiter->results[i]));
      } else {
        out.push_back(fail(
            ErrorCode::kDeadlineExceeded,
            fmt::format("no answer to {} from {} within {} ms", calls[i].first, m_urlText, msOf(timeout))));
      }
      if (!out.back()) {
        ++failed;
        if (!transport && isTransportError(out.back().error())) transport = out.back().error();
      }
    }
    lock.unlock();
    m_failures.fetch_add(failed);
    if (transport) return fail(std::move(*transport));
    return out;
  }

  Result<std::uint64_t> subscribe(std::string_view method, Json params, std::string unsubscribeMethod,
                                  std::function<void(const Json&)> onItem,
                                  std::function<void(const Error&)> onEnd,
                                  RpcClient::SubscribeOptions options) {
    if (onIoThread()) {
      return fail(ErrorCode::kInternal, "RpcClient::subscribe called from its own I/O thread");
    }
    if (!m_url.websocket) {
      return fail(ErrorCode::kInvalidArgument,
                  fmt::format("subscriptions need a ws:// url ({} is HTTP)", m_urlText));
    }
    if (!onItem || !onEnd) {
      return fail(ErrorCode::kInvalidArgument, "subscribe needs both onItem and onEnd");
    }
    m_calls.fetch_add(1);
    m_roundTrips.fetch_add(1);
    if (!m_connected.load()) {
      m_failures.fetch_add(1);
      return fail(notConnected());
    }
    const std::uint64_t handle = m_nextHandle.fetch_add(1);
    const auto timeout = m_options.callTimeout;
    const auto deadline = Clock::now() + timeout;
    auto waiter = std::make_shared<Waiter>(1);
    auto sub = std::make_shared<Subscription>(
        Subscription{std::string(method), std::move(params), std::move(unsubscribeMethod), std::move(onItem),
                     std::move(onEnd), options.resubscribe, std::nullopt, Json()});
    asio::post(m_ioc, [this, waiter, sub, handle, deadline] {
      if (!m_conn || !m_conn->open || m_stopping) {
        waiter->set(0, fail(notConnected()));
        return;
      }
      m_subs.emplace(handle, std::move(*sub));
      sendSubscribe(handle, deadline, false, [waiter](Result<Json> r) { waiter->set(0, std::move(r)); });
    });
    std::unique_lock lock(waiter->mutex);
    waiter->cv.wait_until(lock, deadline, [&] { return waiter->remaining == 0; });
    if (!waiter->results[0]) {
      lock.unlock();
      m_failures.fetch_add(1);
      // The answer may still come: make sure the subscription is dropped, silently.
      asio::post(m_ioc, [this, handle] { endSubscription(handle, std::nullopt, true); });
      return fail(ErrorCode::kDeadlineExceeded,
                  fmt::format("no answer to {} from {} within {} ms", method, m_urlText, msOf(timeout)));
    }
    Result<Json> r = std::move(*waiter->results[0]);
    lock.unlock();
    if (!r) {
      m_failures.fetch_add(1);
      return fail(r.error());
    }
    return handle;
  }

  void unsubscribe(std::uint64_t handle) {
    if (onIoThread()) {
      endSubscription(handle, Error(ErrorCode::kNotFound, "unsubscribed"), true);
      return;
    }
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    asio::post(m_ioc, [this, handle, done] {
      endSubscription(handle, Error(ErrorCode::kNotFound, "unsubscribed"), true);
      done->set_value();
    });
    // Local work only; bounded in case a callback misbehaves and blocks the I/O thread.
    (void)finished.wait_for(m_options.callTimeout);
  }

  bool connected() const { return m_connected.load(); }
  std::chrono::milliseconds callTimeout() const { return m_options.callTimeout; }

  RpcStats stats() const {
    return RpcStats{m_calls.load(), m_roundTrips.load(), m_reconnects.load(), m_failures.load()};
  }

  const std::string& url() const { return m_urlText; }

 private:
  bool onIoThread() const { return m_ioThreadId.load() == std::this_thread::get_id(); }

  Error notConnected() const {
    return Error(
        ErrorCode::kUnavailable,
        fmt::format("not connected to the substrate node at {} (re-dialling in the background)", m_urlText));
  }

  void completeFirstDial(Result<void> r) {
    if (!m_firstDial) return;
    m_firstDial->set_value(std::move(r));
    m_firstDial.reset();
  }

  // --- timers ---------------------------------------------------------------------------------

  std::chrono::milliseconds tickPeriod() const {
    const auto shortest = std::min(m_options.pingInterval, m_options.callTimeout) / 4;
    return std::clamp(shortest, std::chrono::milliseconds(20), std::chrono::milliseconds(1000));
  }

  void armTick() {
    m_tickTimer.expires_after(tickPeriod());
    m_tickTimer.async_wait([this](beast::error_code ec) {
      if (ec || m_stopping) return;
      onTick();
      armTick();
    });
  }

  // Expires pending calls past their deadline (their callers have given up already; this bounds
  // the table) and runs the WebSocket liveness check.
  void onTick() {
    const auto now = Clock::now();
    std::vector<Completion> expired;
    for (auto it = m_pending.begin(); it != m_pending.end();) {
      if (it->second.deadline <= now) {
        expired.push_back(std::move(it->second.done));
        it = m_pending.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& done : expired) {
      done(fail(ErrorCode::kDeadlineExceeded, fmt::format("no answer from {} in time", m_urlText)));
    }
    const auto conn = m_conn;
    if (!conn || !conn->open) return;
    if (conn->awaitingPong) {
      if (now - conn->pingSentAt >= m_options.callTimeout) {
        connectionLost(fmt::format("no pong within {} ms", msOf(m_options.callTimeout)));
      }
    } else if (!conn->pinging && now - conn->lastActivity >= m_options.pingInterval) {
      conn->pinging = true;
      conn->awaitingPong = true;
      conn->pingSentAt = now;
      conn->ws.async_ping({}, [this, conn](beast::error_code ec) {
        conn->pinging = false;
        if (conn != m_conn || ec == asio::error::operation_aborted) return;
        if (ec) connectionLost("ping failed: " + ec.message());
      });
    }
  }

  void scheduleRedial(const std::string& reason) {
    if (m_stopping) return;
    const auto delay = m_backoff.nextMs();
    MERIT_LOG_RATE_LIMITED(kLog, log::Level::kWarn,
                           "substrate node unreachable at {} ({}); retrying in {:.1f}s", m_urlText, reason,
                           static_cast<double>(delay.count()) / 1000.0);
    m_redialTimer.expires_after(delay);
    m_redialTimer.async_wait([this](beast::error_code ec) {
      if (ec || m_stopping) return;
      if (m_url.websocket) {
        dialWs();
      } else {
        httpDial(Clock::now() + m_options.connectTimeout, [this](const Result<void>&) { httpPump(); });
      }
    });
  }

  // --- WebSocket ------------------------------------------------------------------------------

  void dialWs() {
    auto conn = std::make_shared<WsConn>(m_ioc);
    m_conn = conn;
    const auto deadline = Clock::now() + m_options.connectTimeout;
    conn->resolver.async_resolve(
        m_url.host, m_url.port,
        [this, conn, deadline](beast::error_code ec, const tcp::resolver::results_type& results) {
          if (conn != m_conn) return;
          if (ec)
            return dialFailed(ErrorCode::kUnavailable, "cannot resolve " + m_url.host + ": " + ec.message());
          auto& layer = beast::get_lowest_layer(conn->ws);
          layer.expires_at(deadline);
          layer.async_connect(results, [this, conn](beast::error_code ec2, const tcp::endpoint&) {
            if (conn != m_conn) return;
            if (ec2)
              return dialFailed(
                  ec2 == beast::error::timeout ? ErrorCode::kDeadlineExceeded : ErrorCode::kUnavailable,
                  "connect: " + ec2.message());
            // Requests are written as soon as they are made; without TCP_NODELAY a request
            // that spans several segments waits for the peer's delayed ACK (~40 ms) per round
            // trip (measured: a 256-neuron metagraph sync 65 ms with Nagle, 15 ms without).
            beast::error_code nodelay;
            beast::get_lowest_layer(conn->ws).socket().set_option(tcp::no_delay(true), nodelay);
            conn->ws.read_message_max(m_options.maxMessageBytes);
            conn->ws.async_handshake(m_url.hostHeader, m_url.path, [this, conn](beast::error_code ec3) {
              if (conn != m_conn) return;
              if (ec3) {
                return dialFailed(
                    ec3 == beast::error::timeout ? ErrorCode::kDeadlineExceeded : ErrorCode::kUnavailable,
                    fmt::format("WebSocket handshake: {}",
                                ec3 == beast::error::timeout ? "timed out" : ec3.message()));
              }
              // From here the WebSocket layer manages timeouts: the close handshake is bounded by
              // connectTimeout, an idle peer by our own ping watchdog (onTick).
              beast::get_lowest_layer(conn->ws).expires_never();
              websocket::stream_base::timeout t{};
              t.handshake_timeout = m_options.connectTimeout;
              t.idle_timeout = websocket::stream_base::none();
              t.keep_alive_pings = false;
              conn->ws.set_option(t);
              conn->ws.text(true);
              WsConn* raw = conn.get();  // the callback lives in conn: no owning capture
              conn->ws.control_callback([this, raw](websocket::frame_type, beast::string_view) {
                if (m_conn.get() != raw) return;
                raw->awaitingPong = false;
                raw->lastActivity = Clock::now();
              });
              conn->open = true;
              conn->lastActivity = Clock::now();
              onWsConnected();
              readLoop(conn);
            });
          });
        });
  }

  void dialFailed(ErrorCode code, const std::string& reason) {
    if (m_conn) m_conn->close();
    m_conn.reset();
    m_connected = false;
    if (m_firstDial) {
      completeFirstDial(
          fail(code, fmt::format("cannot connect to the substrate node at {}: {}", m_urlText, reason)));
      return;
    }
    scheduleRedial(reason);
  }

  void onWsConnected() {
    m_connected = true;
    if (m_firstDial) {
      completeFirstDial({});
    } else {
      m_reconnects.fetch_add(1);
      MERIT_LOG_INFO(kLog, "reconnected to the substrate node at {}", m_urlText);
    }
    m_backoff.reset();
    const auto deadline = Clock::now() + m_options.callTimeout;
    std::vector<std::uint64_t> again;
    for (const auto& [handle, sub] : m_subs) {
      if (sub.resubscribe && !sub.serverKey) again.push_back(handle);
    }
    for (const auto handle : again) sendSubscribe(handle, deadline, true, [](const Result<Json>&) {});
  }

  void readLoop(const std::shared_ptr<WsConn>& conn) {
    conn->ws.async_read(conn->buffer, [this, conn](beast::error_code ec, std::size_t) {
      if (conn != m_conn) return;
      if (ec) {
        std::string reason;
        if (ec == websocket::error::message_too_big) {
          reason = fmt::format("the node sent a message larger than maxMessageBytes ({} bytes)",
                               m_options.maxMessageBytes);
          MERIT_LOG_WARN(kLog, "closing the connection to {}: {}", m_urlText, reason);
        } else if (ec == websocket::error::closed) {
          reason = fmt::format("closed by the node (code {})", static_cast<unsigned>(conn->ws.reason().code));
        } else {
          reason = ec.message();
        }
        return connectionLost(reason);
      }
      conn->lastActivity = Clock::now();
      conn->awaitingPong = false;
      const auto data = conn->buffer.data();
      if (!conn->ws.got_text()) {
        MERIT_LOG_RATE_LIMITED(kLog, log::Level::kDebug, "ignored a binary frame ({} bytes) from {}",
                               data.size(), m_urlText);
      } else {
        onMessage(std::string_view(static_cast<const char*>(data.data()), data.size()));
      }
      conn->buffer.consume(conn->buffer.size());
      if (conn->buffer.capacity() > (std::size_t{1} << 20)) conn->buffer.shrink_to_fit();
      if (conn != m_conn) return;  // a callback ended the connection (e.g. via the client closing)
      readLoop(conn);
    });
  }

  void onMessage(std::string_view text) {
    Json message = Json::parse(text, nullptr, false);
    if (message.is_discarded()) {
      MERIT_LOG_RATE_LIMITED(kLog, log::Level::kDebug, "ignored a non-JSON frame ({} bytes) from {}",
                             text.size(), m_urlText);
      return;
    }
    if (message.is_array()) {
      for (auto& item : message) onObject(item);
    } else {
      onObject(message);
    }
  }

  void onObject(Json& message) {
    if (!message.is_object()) {
      MERIT_LOG_RATE_LIMITED(kLog, log::Level::kDebug, "ignored a JSON frame that is not an object from {}",
                             m_urlText);
      return;
    }
    const auto id = message.find("id");
    if (id != message.end() && (message.contains("result") || message.contains("error"))) {
      const auto pending =
          id->is_number_unsigned() ? m_pending.find(id->get<std::uint64_t>()) : m_pending.end();
      if (pending == m_pending.end()) {
        MERIT_LOG_RATE_LIMITED(kLog, log::Level::kDebug, "ignored an answer to unknown id {} from {}",
                               id->dump(), m_urlText);
        return;
      }
      Completion done = std::move(pending->second.done);
      m_pending.erase(pending);
      done(resultOf(message));
      return;
    }
    const auto params = message.find("params");
    if (message.contains("method") && params != message.end() && params->is_object()) {
      const auto subId = params->find("subscription");
      if (subId != params->end()) {
        const auto handle = m_subIds.find(subId->dump());
        const auto sub = handle == m_subIds.end() ? m_subs.end() : m_subs.find(handle->second);
        if (sub == m_subs.end()) {
          MERIT_LOG_RATE_LIMITED(kLog, log::Level::kDebug,
                                 "ignored a notification for unknown subscription {} from {}", subId->dump(),
                                 m_urlText);
          return;
        }
        const auto result = params->find("result");
        static const Json kNull;
        invoke(sub->second.onItem, result == params->end() ? kNull : *result);
        return;
      }
    }
    MERIT_LOG_RATE_LIMITED(kLog, log::Level::kDebug, "ignored an unexpected JSON-RPC message from {}",
                           m_urlText);
  }

  // User callbacks: an exception must not unwind through asio.
  template <typename F, typename Arg>
  void invoke(const F& f, const Arg& arg) {
    try {
      f(arg);
    } catch (const std::exception& e) {
      MERIT_LOG_ERROR(kLog, "a subscription callback threw: {}", e.what());
    } catch (...) {
      MERIT_LOG_ERROR(kLog, "a subscription callback threw a non-standard exception");
    }
  }

  void send(std::string frame) {
    const auto conn = m_conn;
    if (!conn || !conn->open) return;
    conn->writeQueue.push_back(std::move(frame));
    if (!conn->writing) writeNext(conn);
  }

  void writeNext(const std::shared_ptr<WsConn>& conn) {
    conn->writing = true;
    conn->ws.async_write(asio::buffer(conn->writeQueue.front()),
                         [this, conn](beast::error_code ec, std::size_t) {
                           if (conn != m_conn) return;
                           if (ec) return connectionLost("write failed: " + ec.message());
                           conn->writeQueue.pop_front();
                           if (conn->writeQueue.empty()) {
                             conn->writing = false;
                           } else {
                             writeNext(conn);
                           }
                         });
  }

  // Sends the subscribe request of m_subs[handle]; `done` gets the node's answer. A first
  // subscription refused is dropped silently (subscribe() returns the error); a refused
  // resubscription ends with onEnd.
  void sendSubscribe(std::uint64_t handle, Clock::time_point deadline, bool again, Completion done) {
    const auto it = m_subs.find(handle);
    if (it == m_subs.end()) return;
    const std::uint64_t id = m_nextId.fetch_add(1);
    const std::string unsubscribeMethod = it->second.unsubscribeMethod;
    m_pending.emplace(
        id, Pending{[this, handle, again, unsubscribeMethod, done = std::move(done)](Result<Json> r) {
                      const auto sub = m_subs.find(handle);
                      if (sub == m_subs.end()) {
                        // Abandoned meanwhile: undo it on the node.
                        if (r) sendFireAndForget(unsubscribeMethod, Json::array({*r}));
                        done(fail(ErrorCode::kUnavailable, "subscription abandoned"));
                        return;
                      }
                      if (!r) {
                        if (again) {
                          endSubscription(handle, r.error().withContext("resubscription refused"), false);
                        } else {
                          m_subs.erase(sub);
                        }
                        done(std::move(r));
                        return;
                      }
                      sub->second.serverId = *r;
                      sub->second.serverKey = r->dump();
                      m_subIds[*sub->second.serverKey] = handle;
                      done(std::move(r));
                    },
                    deadline});
    send(requestText(id, it->second.method, it->second.params));
  }

  void sendFireAndForget(const std::string& method, const Json& params) {
    if (!m_conn || !m_conn->open) return;
    const std::uint64_t id = m_nextId.fetch_add(1);
    m_pending.emplace(id, Pending{[](const Result<Json>&) {}, Clock::now() + m_options.callTimeout});
    send(requestText(id, method, params));
  }

  // Removes a subscription; tells the node if asked and possible; calls onEnd with `reason`
  // unless it is nullopt (subscribe() failed: the caller was told already).
  void endSubscription(std::uint64_t handle, std::optional<Error> reason, bool tellNode) {
    const auto it = m_subs.find(handle);
    if (it == m_subs.end()) return;
    Subscription sub = std::move(it->second);
    m_subs.erase(it);
    if (sub.serverKey) {
      m_subIds.erase(*sub.serverKey);
      if (tellNode) sendFireAndForget(sub.unsubscribeMethod, Json::array({sub.serverId}));
    }
    if (reason) invoke(sub.onEnd, *reason);
  }

  void connectionLost(const std::string& reason) {
    if (!m_conn) return;
    m_conn->close();
    m_conn.reset();
    m_connected = false;
    const Error lost(ErrorCode::kUnavailable,
                     fmt::format("connection to the substrate node at {} lost: {}", m_urlText, reason));
    failEverything(lost, false);
    scheduleRedial(reason);
  }

  // Fails every pending call with `error` and ends the subscriptions that do not survive it
  // (all of them when `all`).
  void failEverything(const Error& error, bool all) {
    auto pending = std::move(m_pending);
    m_pending.clear();
    for (auto& [id, p] : pending) p.done(fail(error));
    m_subIds.clear();
    std::vector<std::uint64_t> ended;
    for (auto& [handle, sub] : m_subs) {
      sub.serverKey.reset();
      if (all || !sub.resubscribe) ended.push_back(handle);
    }
    for (const auto handle : ended) {
      endSubscription(handle, error.withContext("subscription ended"), false);
    }
  }

  void shutdown() {
    m_stopping = true;
    m_tickTimer.cancel();
    m_redialTimer.cancel();
    const Error closed(ErrorCode::kUnavailable, fmt::format("client for {} closed", m_urlText));
    if (m_conn) m_conn->close();
    m_conn.reset();
    if (m_http) m_http->close();
    m_http.reset();
    m_connected = false;
    failEverything(closed, true);
    auto jobs = std::move(m_httpQueue);
    m_httpQueue.clear();
    for (auto& job : jobs) job.done(fail(closed));
    completeFirstDial(fail(closed));
    m_work.reset();
    m_ioc.stop();  // handlers of aborted operations are destroyed with m_ioc, never run
  }

  // --- HTTP -----------------------------------------------------------------------------------

  void httpDial(Clock::time_point deadline, std::function<void(Result<void>)> then) {
    auto conn = std::make_shared<HttpConn>(m_ioc);
    m_http = conn;
    conn->resolver.async_resolve(
        m_url.host, m_url.port,
        [this, conn, deadline, then = std::move(then)](beast::error_code ec,
                                                       const tcp::resolver::results_type& results) {
          if (conn != m_http) return then(fail(ErrorCode::kUnavailable, "connection replaced"));
          if (ec)
            return httpDialFailed(ErrorCode::kUnavailable,
                                  "cannot resolve " + m_url.host + ": " + ec.message(), then);
          conn->stream.expires_at(deadline);
          conn->stream.async_connect(
              results, [this, conn, then](beast::error_code ec2, const tcp::endpoint&) {
                if (conn != m_http) return then(fail(ErrorCode::kUnavailable, "connection replaced"));
                if (ec2) {
                  return httpDialFailed(
                      ec2 == beast::error::timeout ? ErrorCode::kDeadlineExceeded : ErrorCode::kUnavailable,
                      "connect: " + ec2.message(), then);
                }
                beast::error_code nodelay;  // as for WebSocket: no delayed-ACK stall per request
                conn->stream.socket().set_option(tcp::no_delay(true), nodelay);
                conn->open = true;
                if (!m_connected.exchange(true) && !m_firstDial) {
                  m_reconnects.fetch_add(1);
                }
                m_backoff.reset();
                then({});
              });
        });
  }

  void httpDialFailed(ErrorCode code, const std::string& reason,
                      const std::function<void(Result<void>)>& then) {
    if (m_http) m_http->close();
    m_http.reset();
    m_connected = false;
    MERIT_LOG_RATE_LIMITED(kLog, log::Level::kWarn, "substrate node unreachable at {} ({})", m_urlText,
                           reason);
    then(fail(code, fmt::format("cannot connect to the substrate node at {}: {}", m_urlText, reason)));
  }

  // Runs the HTTP queue: one request at a time on the keep-alive connection.
  void httpPump() {
    while (!m_stopping && !m_httpBusy && !m_httpQueue.empty()) {
      HttpJob& job = m_httpQueue.front();
      if (Clock::now() >= job.deadline) {
        auto done = std::move(job.done);
        m_httpQueue.pop_front();
        done(fail(ErrorCode::kDeadlineExceeded, "request expired before it could be sent"));
        continue;
      }
      m_httpBusy = true;
      if (m_http && m_http->open) {
        httpSend(true);
      } else {
        httpDial(std::min(job.deadline, Clock::now() + m_options.connectTimeout), [this](Result<void> r) {
          if (!r) return httpFinish(fail(r.error()));
          httpSend(false);
        });
      }
    }
  }

  void httpFinish(Result<Json> r) {
    if (m_httpQueue.empty()) {  // shut down meanwhile
      m_httpBusy = false;
      return;
    }
    auto done = std::move(m_httpQueue.front().done);
    m_httpQueue.pop_front();
    m_httpBusy = false;
    done(std::move(r));
    httpPump();
  }

  void httpSend(bool reused) {
    const auto conn = m_http;
    HttpJob& job = m_httpQueue.front();
    conn->request = http::request<http::string_body>(http::verb::post, m_url.path, 11);
    conn->request.set(http::field::host, m_url.hostHeader);
    conn->request.set(http::field::content_type, "application/json");
    conn->request.keep_alive(true);
    conn->request.body() = job.body;
    conn->request.prepare_payload();
    conn->stream.expires_at(job.deadline);
    // A keep-alive connection the node closed while idle fails on first use: dial again once.
    // Only then, and only when nothing of an answer arrived, is a request sent twice.
    const auto failed = [this, conn, reused](beast::error_code ec, std::string_view stage) {
      conn->close();
      if (m_http == conn) m_http.reset();
      HttpJob& current = m_httpQueue.front();
      const bool stale = ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                         ec == asio::error::broken_pipe || ec == asio::error::eof;
      if (reused && stale && !current.retried) {
        current.retried = true;
        m_httpBusy = false;
        return httpPump();
      }
      if (ec == beast::error::timeout) {
        return httpFinish(
            fail(ErrorCode::kDeadlineExceeded, fmt::format("no HTTP answer from {} in time", m_urlText)));
      }
      if (ec == http::error::body_limit) {
        return httpFinish(
            fail(ErrorCode::kUnavailable,
                 fmt::format("the node at {} sent an HTTP body larger than maxMessageBytes ({} bytes)",
                             m_urlText, m_options.maxMessageBytes)));
      }
      m_connected = false;
      httpFinish(fail(ErrorCode::kUnavailable,
                      fmt::format("HTTP {} to {} failed: {}", stage, m_urlText, ec.message())));
    };
    http::async_write(conn->stream, conn->request, [this, conn, failed](beast::error_code ec, std::size_t) {
      if (m_stopping) return;
      if (ec) return failed(ec, "write");
      conn->parser.emplace();
      conn->parser->body_limit(m_options.maxMessageBytes);
      // The header first: Beast 1.74's body_limit was seen to let a Content-Length body larger
      // than the limit through when the header and body arrive together, so check it here too.
      http::async_read_header(
          conn->stream, conn->buffer, *conn->parser,
          [this, conn, failed](beast::error_code ec1, std::size_t) {
            if (m_stopping) return;
            if (ec1) return failed(ec1, "read");
            const auto length = conn->parser->content_length();
            if (length && *length > m_options.maxMessageBytes) return failed(http::error::body_limit, "read");
            http::async_read(
                conn->stream, conn->buffer, *conn->parser,
                [this, conn, failed](beast::error_code ec2, std::size_t) {
                  if (m_stopping) return;
                  if (ec2) return failed(ec2, "read");
                  if (conn->parser->get().body().size() > m_options.maxMessageBytes)
                    return failed(http::error::body_limit, "read");
                  conn->stream.expires_never();
                  auto response = conn->parser->release();
                  conn->parser.reset();
                  if (!response.keep_alive()) {
                    conn->close();
                    if (m_http == conn) m_http.reset();
                  }
                  m_connected = true;
                  if (response.result() != http::status::ok) {
                    return httpFinish(fail(
                        ErrorCode::kUnavailable,
                        fmt::format("the node at {} answered HTTP {}", m_urlText, response.result_int())));
                  }
                  Json body = Json::parse(response.body(), nullptr, false);
                  if (body.is_discarded()) {
                    return httpFinish(fail(ErrorCode::kCorruption,
                                           fmt::format("the node at {} answered non-JSON", m_urlText)));
                  }
                  httpFinish(std::move(body));
                });
          });
    });
  }

  // Immutable after construction.
  const ParsedUrl m_url;
  const std::string m_urlText;
  const RpcOptions m_options;

  // Declared first among the asio objects so it is destroyed last.
  asio::io_context m_ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> m_work;
  std::thread m_thread;
  std::atomic<std::thread::id> m_ioThreadId{};

  // Any thread.
  std::atomic<bool> m_connected{false};
  std::atomic<std::uint64_t> m_nextId{1};
  std::atomic<std::uint64_t> m_nextHandle{1};
  std::atomic<std::uint64_t> m_calls{0}, m_roundTrips{0}, m_reconnects{0}, m_failures{0};

  // I/O thread only (and start() before the thread runs).
  std::optional<std::promise<Result<void>>> m_firstDial;
  asio::steady_timer m_tickTimer;
  asio::steady_timer m_redialTimer;
  Backoff m_backoff;
  bool m_stopping = false;
  std::shared_ptr<WsConn> m_conn;
  std::unordered_map<std::uint64_t, Pending> m_pending;
  std::map<std::uint64_t, Subscription> m_subs;
  std::unordered_map<std::string, std::uint64_t> m_subIds;  // node's id (dumped) -> handle
  std::shared_ptr<HttpConn> m_http;
  std::deque<HttpJob> m_httpQueue;  // front() is in flight when m_httpBusy
  bool m_httpBusy = false;
};

Result<std::unique_ptr<RpcClient>> RpcClient::connect(const std::string& url, RpcOptions options) {
  MERIT_ASSIGN_OR_RETURN(ParsedUrl parsed, parseUrl(url));
  if (options.connectTimeout.count() <= 0 || options.callTimeout.count() <= 0 ||
      options.pingInterval.count() <= 0 || options.maxMessageBytes == 0) {
    return fail(ErrorCode::kInvalidArgument,
                "RpcOptions: timeouts, pingInterval and maxMessageBytes must be > 0");
  }
  if (options.reconnect.initial == 0 || options.reconnect.cap < options.reconnect.initial) {
    return fail(ErrorCode::kInvalidArgument, "RpcOptions.reconnect: need 0 < initial <= cap");
  }
  auto impl = std::make_unique<Impl>(std::move(parsed), url, options);
  MERIT_TRY(impl->start());
  return std::unique_ptr<RpcClient>(new RpcClient(std::move(impl)));
}

RpcClient::RpcClient(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
RpcClient::~RpcClient() = default;

Result<nlohmann::json> RpcClient::call(std::string_view method, nlohmann::json params,
                                       std::optional<std::chrono::milliseconds> timeout) {
  std::vector<std::pair<std::string, Json>> calls;
  calls.emplace_back(std::string(method), std::move(params));
  MERIT_ASSIGN_OR_RETURN(auto results,
                         m_impl->request(std::move(calls), timeout.value_or(m_impl->callTimeout())));
  return std::move(results.front());
}

Result<std::vector<Result<nlohmann::json>>> RpcClient::callMany(
    const std::vector<std::pair<std::string, nlohmann::json>>& calls,
    std::optional<std::chrono::milliseconds> timeout) {
  return m_impl->request(calls, timeout.value_or(m_impl->callTimeout()));
}

Result<std::uint64_t> RpcClient::subscribe(std::string_view method, nlohmann::json params,
                                           std::string unsubscribeMethod,
                                           std::function<void(const nlohmann::json&)> onItem,
                                           std::function<void(const Error&)> onEnd,
                                           SubscribeOptions options) {
  return m_impl->subscribe(method, std::move(params), std::move(unsubscribeMethod), std::move(onItem),
                           std::move(onEnd), options);
}

void RpcClient::unsubscribe(std::uint64_t handle) {
  m_impl->unsubscribe(handle);
}
bool RpcClient::connected() const {
  return m_impl->connected();
}
RpcStats RpcClient::stats() const {
  return m_impl->stats();
}
const std::string& RpcClient::url() const {
  return m_impl->url();
}

}  // namespace merit::substrate
