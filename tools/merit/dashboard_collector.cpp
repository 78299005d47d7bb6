#include "dashboard_collector.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <fstream>

#include <httplib.h>

#include "merit/rpc/block_feed.h"
#include "merit/rpc_json/call.h"
#include "merit/util/bytes.h"
#include "merit/util/file.h"
#include "merit/util/log.h"

namespace merit::cli::dashboard {

namespace fs = std::filesystem;
using log::Category;
using nlohmann::json;

// ---- EventHub ----

void EventHub::publish(const std::string& name, const std::string& data) {
  {
    std::lock_guard lock(m_mutex);
    ++m_seq;
    m_events.emplace_back(m_seq, "event: " + name + "\ndata: " + data + "\n\n");
    while (m_events.size() > kKeep) m_events.pop_front();
  }
  m_cv.notify_all();
}

std::optional<std::pair<std::uint64_t, std::string>> EventHub::waitAfter(std::uint64_t seq,
                                                                         std::chrono::milliseconds timeout) {
  std::unique_lock lock(m_mutex);
  if (!m_cv.wait_for(lock, timeout, [&] { return m_closed || m_seq > seq; }) || m_closed) return std::nullopt;
  std::string text;
  for (const auto& [n, e] : m_events) {
    if (n > seq) text += e;
  }
  return std::make_pair(m_seq, std::move(text));
}

std::uint64_t EventHub::lastSeq() const {
  std::lock_guard lock(m_mutex);
  return m_seq;
}

bool EventHub::join() {
  std::lock_guard lock(m_mutex);
  if (m_closed || m_clients >= m_maxClients) return false;
  ++m_clients;
  return true;
}

void EventHub::leave() {
  std::lock_guard lock(m_mutex);
  --m_clients;
}

void EventHub::close() {
  {
    std::lock_guard lock(m_mutex);
    m_closed = true;
  }
  m_cv.notify_all();
}

bool EventHub::closed() const {
  std::lock_guard lock(m_mutex);
  return m_closed;
}

// ---- History ----

namespace {

constexpr std::size_t kMaxHistoryFileBytes = 64u << 20;  // 64 epochs x 64 subnets x 4096 uids fit
constexpr std::size_t kMaxLocalnetFileBytes = 4u << 20;
constexpr std::size_t kMaxMetricsBytes = 1u << 20;

std::vector<std::uint64_t> u64s(const json& j) {
  std::vector<std::uint64_t> out;
  if (!j.is_array()) return out;
  out.reserve(j.size());
  for (const auto& v : j)
    out.push_back(v.is_number_integer() && v.get<std::int64_t>() >= 0 ? v.get<std::uint64_t>() : 0);
  return out;
}

// A non-negative integer field (parsed JSON holds them as unsigned; built JSON may not).
std::uint64_t u64Or(const json& j, const char* key, std::uint64_t otherwise = 0) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return otherwise;
  return it->is_number_unsigned() || it->get<std::int64_t>() >= 0 ? it->get<std::uint64_t>() : otherwise;
}

}  // namespace

History::History(std::size_t epochsPerSubnet, fs::path file)
    : m_limit(std::max<std::size_t>(epochsPerSubnet, 1)), m_file(std::move(file)) {}

void History::load(const std::string& genesis) {
  m_genesis = genesis;
  if (m_file.empty()) return;
  std::error_code ec;
  if (!fs::exists(m_file, ec)) return;
  auto text = readFile(m_file, kMaxHistoryFileBytes);
  if (!text) {
    MERIT_LOG_WARN(Category::kRpc, "dashboard history {} not read: {}", m_file.string(),
                   text.error().message());
    return;
  }
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("genesis", std::string()) != genesis) {
    MERIT_LOG_WARN(Category::kRpc, "dashboard history {} is of another chain or unreadable: starting afresh",
                   m_file.string());
    return;
  }
  const json subnets = j.value("subnets", json::object());
  for (const auto& [key, epochs] : subnets.items()) {
    std::uint16_t netuid = 0;
    auto [p, err] = std::from_chars(key.data(), key.data() + key.size(), netuid);
    if (err != std::errc() || p != key.data() + key.size() || !epochs.is_array()) continue;
    auto& list = m_subnets[netuid];
    for (const auto& e : epochs) {
      if (!e.is_object()) continue;
      list.push_back({u64Or(e, "block"), u64s(e.value("incentive", json())),
                      u64s(e.value("dividends", json())), u64s(e.value("emission", json()))});
      if (list.size() > m_limit) list.pop_front();
    }
  }
}

bool History::observe(std::uint16_t netuid, const json& metagraph) {
  std::uint64_t block = u64Or(metagraph, "last_epoch_block");
  auto& list = m_subnets[netuid];
  if (block == 0 || (!list.empty() && list.back().block >= block)) return false;
  EpochRecord r;
  r.block = block;
  for (const auto& n : metagraph.value("neurons", json::array())) {
    r.incentive.push_back(u64Or(n, "incentive"));
    r.dividends.push_back(u64Or(n, "dividends"));
    r.emission.push_back(u64Or(n, "emission"));
  }
  list.push_back(std::move(r));
  while (list.size() > m_limit) list.pop_front();
  return true;
}

json History::toJson(std::uint16_t netuid) const {
  json epochs = json::array();
  if (auto it = m_subnets.find(netuid); it != m_subnets.end()) {
    for (const auto& r : it->second) {
      epochs.push_back({{"block", r.block},
                        {"incentive", r.incentive},
                        {"dividends", r.dividends},
                        {"emission", r.emission}});
    }
  }
  return {{"source", "dashboard"}, {"limit", m_limit}, {"epochs", std::move(epochs)}};
}

void History::save() const {
  if (m_file.empty()) return;
  json subnets = json::object();
  for (const auto& [netuid, list] : m_subnets) subnets[std::to_string(netuid)] = toJson(netuid)["epochs"];
  json j = {{"version", 1}, {"genesis", m_genesis}, {"subnets", std::move(subnets)}};
  if (auto ok = writeFileAtomic(m_file, asBytes(j.dump()), 0644, true); !ok) {
    MERIT_LOG_WARN(Category::kRpc, "dashboard history {} not saved: {}", m_file.string(),
                   ok.error().message());
  }
}

// ---- scores ----

std::map<std::uint64_t, double> parseScores(const std::string& metrics) {
  static constexpr std::string_view kPrefix = "merit_validator_score{uid=\"";
  std::map<std::uint64_t, double> out;
  std::size_t pos = 0;
  while (pos < metrics.size()) {
    std::size_t end = metrics.find('\n', pos);
    if (end == std::string::npos) end = metrics.size();
    std::string_view line(metrics.data() + pos, end - pos);
    pos = end + 1;
    if (line.substr(0, kPrefix.size()) != kPrefix) continue;
    line.remove_prefix(kPrefix.size());
    std::uint64_t uid = 0;
    auto [p, err] = std::from_chars(line.data(), line.data() + line.size(), uid);
    if (err != std::errc()) continue;
    std::string_view rest(p, static_cast<std::size_t>(line.data() + line.size() - p));
    if (rest.substr(0, 3) != "\"} ") continue;
    rest.remove_prefix(3);
    double v = 0;
    auto [q, err2] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
    if (err2 != std::errc()) continue;
    out[uid] = v;
  }
  return out;
}

// ---- Collector ----

namespace {

// A process of the localnet is running: its pid exists and is not a zombie.
bool alive(std::int64_t pid) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(stat, text);
  auto close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() || text[close + 2] != 'Z';
}

// GET http://127.0.0.1:<port>/metrics, at most kMaxMetricsBytes, within half a second.
std::optional<std::string> scrape(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(0, 300'000);
  c.set_read_timeout(0, 500'000);
  std::string body;
  bool tooBig = false;
  auto res = c.Get("/metrics", [&](const char* data, std::size_t n) {
    if (body.size() + n > kMaxMetricsBytes) {
      tooBig = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (!res || res->status != 200 || tooBig) return std::nullopt;
  return body;
}

}  // namespace

json Collector::localnetJson() {
  fs::path file = m_options.localnetDir / "localnet.json";
  auto text = readFile(file, kMaxLocalnetFileBytes);
  if (!text) return {{"error", text.error().message()}};
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {{"error", file.string() + ": not a localnet state file"}};
  json out = {{"phase", j.value("phase", std::string())},
              {"data_dir", j.value("data_dir", std::string())},
              {"epochs", u64Or(j, "epochs")},
              {"measure_start_block", u64Or(j, "measure_start_block")},
              {"subnets", j.value("subnets", json::array())},
              {"processes", json::array()},
              {"scores", json::object()}};
  for (const auto& p : j.value("processes", json::array())) {
    if (!p.is_object()) continue;
    std::int64_t pid = p.value("pid", std::int64_t{0});
    bool up = alive(pid);
    int metricsPort = p.value("metrics_port", -1);
    std::string role = p.value("role", std::string());
    out["processes"].push_back({{"name", p.value("name", std::string())},
                                {"role", role},
                                {"subnet", p.value("subnet", std::string())},
                                {"tier", p.value("tier", std::string())},
                                {"hotkey", p.value("hotkey", std::string())},
                                {"hotkey_name", p.value("hotkey_name", std::string())},
                                {"pid", pid},
                                {"alive", up},
                                {"metrics_port", metricsPort},
                                {"axon", p.value("axon", std::string())}});
    if (role != "validator" || !up || metricsPort <= 0) continue;
    if (auto body = scrape(metricsPort)) {
      json scores = json::object();
      for (const auto& [uid, score] : parseScores(*body)) scores[std::to_string(uid)] = score;
      out["scores"][p.value("hotkey_name", std::string())] = std::move(scores);
    }
  }
  return out;
}

Result<std::unique_ptr<Collector>> Collector::start(const Options& options, EventHub& hub) {
  std::unique_ptr<Collector> c(new Collector(options, hub));
  rpc::ClientOptions co;
  co.timeout = std::chrono::milliseconds(5000);
  co.retries = 1;
  MERIT_ASSIGN_OR_RETURN(c->m_client, rpc::ChainClient::connect(options.chainUrl, co));
  MERIT_ASSIGN_OR_RETURN(json info, rpc_json::call(*c->m_client, "system_info"));
  c->m_chainName = info.value("chain", std::string());
  c->m_blockTimeMs = u64Or(info, "block_time_ms");
  std::string feed = info.contains("feed_endpoint") && info["feed_endpoint"].is_string()
                         ? info["feed_endpoint"].get<std::string>()
                         : std::string();
  c->m_history = std::make_unique<History>(options.historyEpochs, options.historyFile);
  c->m_history->load(info.value("genesis_hash", std::string()));
  MERIT_TRY(c->refresh());
  c->m_thread = std::thread([p = c.get(), feed] { p->run(feed); });
  return c;
}

Collector::~Collector() {
  m_running = false;
  if (m_thread.joinable()) m_thread.join();
}

std::shared_ptr<const Snapshot> Collector::current() const {
  std::lock_guard lock(m_mutex);
  return m_current;
}

Result<json> Collector::historyOf(std::uint16_t netuid, const json& metagraph, bool& recorded) {
  std::uint64_t epoch = u64Or(metagraph, "last_epoch_block");
  if (m_chainHistory.value_or(true)) {
    auto cached = m_chainEpochs.find(netuid);
    if (cached != m_chainEpochs.end() && cached->second.first == epoch) return cached->second.second;
    auto list = rpc_json::call(*m_client, "epoch_list", json::array({netuid, m_options.historyEpochs}));
    if (list) {
      m_chainHistory = true;
      json epochs = json::array();
      const json& stored = list->contains("epochs") ? list->at("epochs") : json::array();
      // Newest first on the wire; oldest first in the pages' charts.
      for (auto it = stored.rbegin(); it != stored.rend(); ++it) {
        epochs.push_back({{"block", u64Or(*it, "block")},
                          {"incentive", u64s(it->value("incentive", json()))},
                          {"dividends", u64s(it->value("dividends", json()))},
                          {"emission", u64s(it->value("emission", json()))},
                          {"hotkeys", it->value("hotkeys", json::array())}});
      }
      json h = {{"source", "chain"}, {"limit", u64Or(*list, "retained")}, {"epochs", std::move(epochs)}};
      m_chainEpochs[netuid] = {epoch, h};
      return h;
    }
    if (list.error().message().find("no method") != std::string::npos) {
      // An older node without epoch history: record it here instead.
      MERIT_LOG_INFO(Category::kRpc,
                     "dashboard: the node keeps no epoch history (no epoch_list); recording it");
      m_chainHistory = false;
    } else {
      // E.g. a subnet whose history exceeds the node's answer limit: this subnet's charts show
      // what the dashboard recorded, and the chain is asked again at the next epoch only.
      MERIT_LOG_DEBUG(Category::kRpc, "dashboard: epoch_list {}: {}", netuid, list.error().message());
      recorded = m_history->observe(netuid, metagraph);
      json h = m_history->toJson(netuid);
      m_chainEpochs[netuid] = {epoch, h};
      return h;
    }
  }
  recorded = m_history->observe(netuid, metagraph);
  return m_history->toJson(netuid);
}

Result<void> Collector::refresh() {
  auto snap = std::make_shared<Snapshot>();
  MERIT_ASSIGN_OR_RETURN(json head, rpc_json::call(*m_client, "chain_getHead"));
  MERIT_ASSIGN_OR_RETURN(json list, rpc_json::call(*m_client, "subnet_list"));
  snap->block = u64Or(head, "number");
  std::uint64_t ts = u64Or(head, "timestamp_ms");
  if (snap->block > m_lastBlockSeen) {
    m_lastBlockSeen = snap->block;
    m_blockTimes.emplace_back(snap->block, ts);
    while (m_blockTimes.size() > 32) m_blockTimes.pop_front();
  }
  // Refreshes skip blocks: the mean over the blocks between the oldest and newest head seen.
  json observed = nullptr;
  if (m_blockTimes.size() >= 2 && m_blockTimes.back().first > m_blockTimes.front().first &&
      m_blockTimes.back().second >= m_blockTimes.front().second) {
    observed = (m_blockTimes.back().second - m_blockTimes.front().second) /
               (m_blockTimes.back().first - m_blockTimes.front().first);
  }
  json overview = {
      {"chain", m_chainName},
      {"head", {{"number", snap->block}, {"hash", head.value("hash", std::string())}, {"timestamp_ms", ts}}},
      {"block_time_ms", m_blockTimeMs},
      {"observed_block_time_ms", observed},
      {"localnet", !m_options.localnetDir.empty()},
      {"subnets", json::array()},
      {"root", json::array()}};
  json epochs = json::object();
  bool historyChanged = false;
  std::size_t shown = 0;
  for (const auto& s : list) {
    if (shown++ >= m_options.maxSubnets) break;
    std::uint64_t netuid64 = u64Or(s, "netuid", 1u << 16);
    if (netuid64 > 0xffff) continue;
    auto netuid = static_cast<std::uint16_t>(netuid64);
    auto mg = rpc_json::call(*m_client, "metagraph_get", json::array({netuid, true, true}));
    bool omitted = false;
    if (!mg && mg.error().code() == ErrorCode::kInvalidArgument) {
      // Too large with weights and bonds (-32003): the table and charts still work without.
      mg = rpc_json::call(*m_client, "metagraph_get", json::array({netuid, false, false}));
      omitted = true;
    }
    if (!mg) return fail(mg.error().withContext("metagraph_get " + std::to_string(netuid)));
    (*mg)["weights_omitted"] = omitted;
    json entry = s;
    if (netuid == 0) {
      for (const auto& n : mg->value("neurons", json::array())) {
        overview["root"].push_back({{"uid", n.value("uid", 0)},
                                    {"hotkey", n.value("hotkey", std::string())},
                                    {"stake", u64Or(n, "stake")},
                                    {"weights", n.value("weights", json::array())}});
      }
    } else {
      bool recorded = false;
      MERIT_ASSIGN_OR_RETURN((*mg)["history"], historyOf(netuid, *mg, recorded));
      historyChanged = historyChanged || recorded;
      epochs[std::to_string(netuid)] = u64Or(*mg, "last_epoch_block");
      snap->lastEpoch[netuid] = u64Or(*mg, "last_epoch_block");
      entry["last_epoch_block"] = u64Or(*mg, "last_epoch_block");
    }
    overview["subnets"].push_back(std::move(entry));
    snap->subnets[netuid] = mg->dump();
  }
  if (historyChanged) m_history->save();
  if (!m_options.localnetDir.empty()) {
    auto now = std::chrono::steady_clock::now();
    if (m_localnet.is_null() || now - m_localnetAt >= std::chrono::seconds(2)) {
      m_localnet = localnetJson();
      m_localnetAt = now;
    }
    snap->localnet = m_localnet.dump();
  }
  snap->overview = overview.dump();
  {
    std::lock_guard lock(m_mutex);
    m_current = std::move(snap);
  }
  m_hub.publish("update", json({{"block", m_lastBlockSeen}, {"epochs", std::move(epochs)}}).dump());
  return {};
}

void Collector::run(std::string feedEndpoint) {
  using Clock = std::chrono::steady_clock;
  rpc::BlockFeed feed(feedEndpoint);
  if (!feed.connected() && !feed.error().empty()) {
    MERIT_LOG_WARN(Category::kRpc, "dashboard: cannot subscribe to the block feed {}: {}; polling the head",
                   feedEndpoint, feed.error());
  }
  const auto blockTime = std::chrono::milliseconds(m_blockTimeMs > 0 ? m_blockTimeMs : 1000);
  // The feed may drop messages and a node may restart: poll the head after this much silence.
  const auto silence = feed.connected() ? std::max(std::chrono::milliseconds(2000), 3 * blockTime)
                                        : std::min(blockTime, std::chrono::milliseconds(1000));
  auto lastHeard = Clock::now();
  Clock::time_point lastRefresh = Clock::now();
  auto interval = m_options.minRefresh;
  Clock::time_point retryAt{};
  bool pending = false;
  bool down = false;
  while (m_running.load()) {
    auto last = feed.waitNewest(std::chrono::milliseconds(100));
    auto now = Clock::now();
    if (last) {
      auto j = json::parse(*last, nullptr, false);
      if (j.is_object() && j.contains("number")) {
        m_hub.publish("block", j.dump());
        pending = true;
        lastHeard = now;
      }
    }
    if (!pending && now - lastHeard >= silence && now >= retryAt) {
      lastHeard = now;
      auto head = rpc_json::call(*m_client, "chain_getHead");
      if (head && u64Or(*head, "number") > m_lastBlockSeen) {
        m_hub.publish("block", json({{"number", u64Or(*head, "number")},
                                     {"hash", head->value("hash", std::string())},
                                     {"timestamp_ms", u64Or(*head, "timestamp_ms")}})
                                   .dump());
        pending = true;
      }
    }
    // A localnet's processes change without blocks too.
    if (!m_options.localnetDir.empty() && now - lastRefresh >= std::chrono::seconds(2)) pending = true;
    if (!pending || now - lastRefresh < interval || now < retryAt) continue;
    auto started = Clock::now();
    auto ok = refresh();
    lastRefresh = Clock::now();
    if (!ok) {
      if (!down) MERIT_LOG_WARN(Category::kRpc, "dashboard: chain refresh failed: {}", ok.error().message());
      down = true;
      retryAt = lastRefresh + std::chrono::seconds(1);
      continue;
    }
    if (down) MERIT_LOG_INFO(Category::kRpc, "dashboard: chain reachable again");
    down = false;
    pending = false;
    // Never spend more than a quarter of the time reading the chain, however large the subnets.
    interval = std::max(m_options.minRefresh,
                        4 * std::chrono::duration_cast<std::chrono::milliseconds>(lastRefresh - started));
  }
}

}  // namespace merit::cli::dashboard
