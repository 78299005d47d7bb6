// The dashboard's pieces behind dashboard.h: the event hub that fans Server-Sent Events out to
// browsers, and the collector that follows the chain and keeps the snapshot they read.
//
// Thread-safety: EventHub and Collector::current() may be used from any thread; the collector's
// chain client, feed socket and history belong to its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "merit/rpc/client.h"
#include "merit/util/result.h"

#include "dashboard.h"

namespace merit::cli::dashboard {

// The last few events, numbered; each stream sends what it has not sent yet. A stream that falls
// more than kKeep events behind skips to the newest (the pages refetch on `update` anyway).
class EventHub {
 public:
  static constexpr std::size_t kKeep = 32;

  explicit EventHub(std::size_t maxClients) : m_maxClients(maxClients) {}

  // Queues "event: <name>\ndata: <data>\n\n" (data is one line of JSON).
  void publish(const std::string& name, const std::string& data);
  // The text of the events after `seq` and the new last seq, waiting up to `timeout` for one;
  // nullopt on timeout or once closed (see closed()).
  std::optional<std::pair<std::uint64_t, std::string>> waitAfter(std::uint64_t seq,
                                                                 std::chrono::milliseconds timeout);
  std::uint64_t lastSeq() const;
  // A stream joins (false when maxClients are already open) and leaves.
  bool join();
  void leave();
  // Wakes every stream; they end.
  void close();
  bool closed() const;

 private:
  const std::size_t m_maxClients;
  mutable std::mutex m_mutex;  // guards everything below
  std::condition_variable m_cv;
  std::deque<std::pair<std::uint64_t, std::string>> m_events;
  std::uint64_t m_seq = 0;
  std::size_t m_clients = 0;
  bool m_closed = false;
};

// One refresh's result, as JSON text ready to send.
struct Snapshot {
  std::uint64_t block = 0;
  std::string overview;                              // /api/overview
  std::map<std::uint16_t, std::string> subnets;      // /api/subnet/<netuid>
  std::map<std::uint16_t, std::uint64_t> lastEpoch;  // each subnet's last_epoch_block
  std::string localnet = "null";                     // /api/localnet
};

// Per-epoch results of one subnet, newest last, at most Options::historyEpochs.
struct EpochRecord {
  std::uint64_t block = 0;                                    // the epoch's block (last_epoch_block)
  std::vector<std::uint64_t> incentive, dividends, emission;  // index = uid
};

// History recorded from the metagraphs the collector reads (each new last_epoch_block adds a
// record), kept per subnet and saved to a file so a restarted dashboard keeps it.
class History {
 public:
  History(std::size_t epochsPerSubnet, std::filesystem::path file);
  // Loads the file if there is one (a missing file is an empty history; a bad one is ignored
  // with a warning: it is only a cache of what the chain showed).
  void load(const std::string& genesis);
  // Adds the epoch of `metagraph` (metagraph_get's result) if its last_epoch_block is new;
  // true when it did.
  bool observe(std::uint16_t netuid, const nlohmann::json& metagraph);
  void save() const;
  nlohmann::json toJson(std::uint16_t netuid) const;

 private:
  const std::size_t m_limit;
  const std::filesystem::path m_file;
  std::string m_genesis;  // a history belongs to one chain
  std::map<std::uint16_t, std::deque<EpochRecord>> m_subnets;
};

class Collector {
 public:
  // Connects (kUnavailable if the node does not answer), reads the first snapshot and starts
  // the thread.
  static Result<std::unique_ptr<Collector>> start(const Options& options, EventHub& hub);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  std::shared_ptr<const Snapshot> current() const;

 private:
  Collector(const Options& options, EventHub& hub) : m_options(options), m_hub(hub) {}
  void run(std::string feedEndpoint);
  Result<void> refresh();
  nlohmann::json localnetJson();
  // The subnet's history: the chain's epoch_list when the node keeps epochs (fetched again only
  // when a new epoch ran), else what History recorded from the metagraphs.
  Result<nlohmann::json> historyOf(std::uint16_t netuid, const nlohmann::json& metagraph, bool& recorded);

  const Options m_options;
  EventHub& m_hub;
  std::unique_ptr<rpc::ChainClient> m_client;  // the collector thread's after start
  std::unique_ptr<History> m_history;          // the collector thread's after start
  std::optional<bool> m_chainHistory;          // the node answers epoch_list (unknown until asked)
  std::map<std::uint16_t, std::pair<std::uint64_t, nlohmann::json>>
      m_chainEpochs;  // netuid -> (epoch, history)
  std::string m_chainName;
  std::uint64_t m_blockTimeMs = 0;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> m_blockTimes;  // (number, timestamp ms) of recent heads
  std::uint64_t m_lastBlockSeen = 0;
  nlohmann::json m_localnet;  // the last localnet pane
  std::chrono::steady_clock::time_point m_localnetAt{};
  mutable std::mutex m_mutex;  // guards m_current
  std::shared_ptr<const Snapshot> m_current;
  std::atomic<bool> m_running{true};
  std::thread m_thread;
};

// The validators' scores in Prometheus text: merit_validator_score{uid="N"} V lines.
std::map<std::uint64_t, double> parseScores(const std::string& metrics);

}  // namespace merit::cli::dashboard
