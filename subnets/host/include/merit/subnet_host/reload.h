// Reloading a subnet plugin without a restart: a new build of the same subnet replaces the one
// in use while calls keep arriving (docs/OPERATIONS.md, "Reloading the subnet plugin").
//
// A ReloadableInstance holds the current generation (a plugin and the instance created from it)
// and hands out Leases on it. reload() loads the file again (from a private copy, see
// SubnetPlugin::loadCopy), checks that it is the same subnet, creates the new instance with the
// same role and config, and swaps: new leases go to the new generation at once; calls holding a
// lease on the old one finish on it (drain), and the old instance and shared object are released
// when its last lease is gone. A refused reload (not loadable, another ABI major, another subnet
// name, create failed) changes nothing: the old generation keeps serving.
//
// A PluginWatcher decides when to reload: on request (SIGHUP) or when the plugin file changes
// (polled), after the file has stayed the same for one poll so a half-copied file is not tried.
//
// Thread-safety: ReloadableInstance::acquire(), reload() and the accessors may be called from any
// thread; reloads are serialised. A Lease belongs to the thread that took it. Destroy the
// ReloadableInstance after every Lease on it. PluginWatcher::poll() and run() are called by one
// thread (the daemon's reload thread); request() and stop() from any thread, but not from a
// signal handler (a handler sets a flag that another thread turns into request()).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "merit/subnet_host/plugin.h"
#include "merit/util/clock.h"
#include "merit/util/result.h"

namespace merit::subnet {

// What a watcher compares to see that a file was replaced or rewritten.
struct FileSignature {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t mtimeNs = 0;
  bool operator==(const FileSignature&) const = default;
};
// kNotFound when the file does not exist (e.g. between an unlink and a rename).
Result<FileSignature> fileSignature(const std::filesystem::path& file);
// "inode 1234, 56789 bytes, mtime 1764799800.123456789", for logs.
std::string describeSignature(const FileSignature& signature);

struct ReloadReport {
  std::uint32_t oldVersion = 0;
  std::uint32_t newVersion = 0;
  std::uint64_t generation = 0;  // of the new instance; the first one is 1
  std::size_t inFlight = 0;      // leases on the old instance when it was swapped out
  bool drained = true;           // they all ended within the drain timeout (else the last one frees it)
  FileSignature signature;       // of the file that was loaded
};

class ReloadableInstance {
  struct Generation;

 public:
  struct Options {
    // How long reload() waits for calls on the old instance to end before it returns; the old
    // instance is released by its last call either way.
    std::chrono::milliseconds drainTimeout{30'000};
    std::shared_ptr<const Clock> clock;  // for the drain timeout; null: the system clock
  };

  struct Stats {
    std::uint64_t generation = 0;
    std::uint32_t version = 0;
    std::uint64_t reloads = 0;  // successful
    std::uint64_t refused = 0;
    std::uint64_t draining = 0;  // old generations still referenced by a call
  };

  // Loads `file` (SubnetPlugin::loadCopy, falling back to the file itself when no copy can be
  // made beside it) and creates the first instance. Errors as load() and create().
  static Result<std::unique_ptr<ReloadableInstance>> open(std::filesystem::path file, Role role,
                                                          std::string configYaml, Options options);
  // findSubnetPlugin() + open(); when looked up by name, the plugin's own name must match (as
  // SubnetPlugin::find).
  static Result<std::unique_ptr<ReloadableInstance>> find(std::string_view nameOrPath,
                                                          std::span<const std::string> explicitDirs,
                                                          Role role, std::string configYaml, Options options);
  ~ReloadableInstance();
  ReloadableInstance(const ReloadableInstance&) = delete;
  ReloadableInstance& operator=(const ReloadableInstance&) = delete;

  // A claim on the generation current when it was taken: calls through it go to that instance
  // even if a reload swaps it out meanwhile. Cheap (a mutex, a counter); hold one per call or
  // per group of calls that must see the same instance (a validator's challenge and its score).
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    SubnetInstance& instance() const;
    SubnetInstance* operator->() const { return &instance(); }
    const SubnetPlugin& plugin() const;
    std::uint64_t generation() const;

   private:
    friend class ReloadableInstance;
    Lease(ReloadableInstance* owner, std::shared_ptr<Generation> generation);
    ReloadableInstance* m_owner;  // null once moved from
    std::shared_ptr<Generation> m_generation;
  };

  Lease acquire();

  // Loads the file again and swaps (see the top of this file). Refusals are kInvalidArgument (or
  // kNotFound for a missing file) with a message that says why and that the old one keeps running.
  Result<ReloadReport> reload();

  const std::filesystem::path& file() const { return m_file; }
  Role role() const { return m_role; }
  const std::string& name() const { return m_name; }  // never changes
  std::uint32_t version() const;
  // The current generation's payload version, updated by each reload: for readers that must not
  // take a lock (the axon's module table, net::ModuleHandler::liveVersion).
  std::shared_ptr<const std::atomic<std::uint32_t>> liveVersion() const { return m_liveVersion; }
  Stats stats() const;
  // The signature of the file the current generation was loaded from.
  FileSignature loadedSignature() const;

 private:
  ReloadableInstance(std::filesystem::path file, Role role, std::string configYaml, Options options);
  void release(Generation& generation);

  const std::filesystem::path m_file;
  const Role m_role;
  const std::string m_configYaml;
  const Options m_options;
  std::string m_name;  // set once by open()

  std::mutex m_reloadMutex;           // serialises reload(); taken before m_mutex
  mutable std::mutex m_mutex;         // guards everything below and every Generation::leases
  std::condition_variable m_drained;  // a swapped-out generation's last lease ended
  std::shared_ptr<Generation> m_current;
  FileSignature m_loadedSignature;
  std::uint64_t m_reloads = 0;
  std::uint64_t m_refused = 0;
  std::uint64_t m_draining = 0;
  std::shared_ptr<std::atomic<std::uint32_t>> m_liveVersion = std::make_shared<std::atomic<std::uint32_t>>(0);
};

// Decides when to reload a ReloadableInstance: the daemon's reload thread runs run().
class PluginWatcher {
 public:
  struct Options {
    // How often the file is looked at; 0: never (reload on request only).
    std::chrono::milliseconds watchInterval{0};
  };
  PluginWatcher(ReloadableInstance& target, Options options);

  // Asks for a reload at the next poll(), whether or not the file changed (SIGHUP).
  void request();
  // Reloads when requested, or when the file changed since the last attempt and has not changed
  // since the previous poll. Logs the outcome (a refusal at error level). Returns the outcome of
  // an attempt, nullopt when nothing was tried.
  std::optional<Result<ReloadReport>> poll();
  // The reload thread's loop: poll() every watchInterval on `clock` (only on request when the
  // interval is 0) until stop().
  void run(const Clock& clock);
  void stop();

 private:
  ReloadableInstance& m_target;
  const Options m_options;
  mutable std::mutex m_mutex;  // guards m_requested, m_stop
  std::condition_variable m_wake;
  bool m_requested = false;
  bool m_stop = false;
  // poll()'s thread only.
  std::optional<FileSignature> m_lastSeen;  // at the previous poll
  FileSignature m_lastTried;                // loaded or refused: not tried again until it changes
};

}  // namespace merit::subnet
