#include "merit/subnet_host/reload.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <utility>

#include <fmt/format.h>

#include "merit/subnet_host/search_path.h"
#include "merit/util/assert.h"
#include "merit/util/log.h"

namespace merit::subnet {

using log::Category;

// One plugin build and the instance made from it. The instance is destroyed before the plugin
// (members in reverse order), and the plugin's shared object is closed after both.
struct ReloadableInstance::Generation {
  std::shared_ptr<SubnetPlugin> plugin;
  std::unique_ptr<SubnetInstance> instance;
  std::uint64_t number = 0;
  std::size_t leases = 0;  // guarded by ReloadableInstance::m_mutex
};

Result<FileSignature> fileSignature(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    const int error = errno;
    return fail(error == ENOENT ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
                file.string() + ": " + std::strerror(error));
  }
  FileSignature s;
  s.device = static_cast<std::uint64_t>(st.st_dev);
  s.inode = static_cast<std::uint64_t>(st.st_ino);
  s.size = static_cast<std::uint64_t>(st.st_size);
  s.mtimeNs = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return s;
}

std::string describeSignature(const FileSignature& s) {
  return fmt::format("inode {}, {} bytes, mtime {}.{:09}", s.inode, s.size, s.mtimeNs / 1'000'000'000,
                     s.mtimeNs % 1'000'000'000);
}

// ---- Lease ----

ReloadableInstance::Lease::Lease(ReloadableInstance* owner, std::shared_ptr<Generation> generation)
    : m_owner(owner), m_generation(std::move(generation)) {}

ReloadableInstance::Lease::Lease(Lease&& other) noexcept
    : m_owner(std::exchange(other.m_owner, nullptr)), m_generation(std::move(other.m_generation)) {}

ReloadableInstance::Lease::~Lease() {
  if (m_owner != nullptr) m_owner->release(*m_generation);
}

SubnetInstance& ReloadableInstance::Lease::instance() const {
  MERIT_ASSERT(m_owner != nullptr);
  return *m_generation->instance;
}

const SubnetPlugin& ReloadableInstance::Lease::plugin() const {
  MERIT_ASSERT(m_owner != nullptr);
  return *m_generation->plugin;
}

std::uint64_t ReloadableInstance::Lease::generation() const {
  return m_generation->number;
}

// ---- ReloadableInstance ----

ReloadableInstance::ReloadableInstance(std::filesystem::path file, Role role, std::string configYaml,
                                       Options options)
    : m_file(std::move(file)),
      m_role(role),
      m_configYaml(std::move(configYaml)),
      m_options(std::move(options)) {}

ReloadableInstance::~ReloadableInstance() = default;

Result<std::unique_ptr<ReloadableInstance>> ReloadableInstance::open(std::filesystem::path file, Role role,
                                                                     std::string configYaml,
                                                                     Options options) {
  if (!options.clock) options.clock = std::make_shared<SystemClock>();
  std::unique_ptr<ReloadableInstance> r(
      new ReloadableInstance(std::move(file), role, std::move(configYaml), std::move(options)));
  // Signature first: a change after it is seen by the watcher rather than missed.
  auto signature = fileSignature(r->m_file);
  // From a copy beside the file when its directory is writable (then overwriting the file in
  // place cannot disturb the running build), else from the file itself.
  MERIT_ASSIGN_OR_RETURN(auto plugin,
                         SubnetPlugin::loadCopy(r->m_file, SubnetPlugin::CopyFallback::kOriginal));
  MERIT_ASSIGN_OR_RETURN(auto instance, plugin->create(role, r->m_configYaml));
  r->m_name = plugin->name();
  r->m_liveVersion->store(plugin->version());
  if (signature) r->m_loadedSignature = *signature;
  auto generation = std::make_shared<Generation>();
  generation->plugin = std::move(plugin);
  generation->instance = std::move(instance);
  generation->number = 1;
  r->m_current = std::move(generation);
  return r;
}

Result<std::unique_ptr<ReloadableInstance>> ReloadableInstance::find(
    std::string_view nameOrPath, std::span<const std::string> explicitDirs, Role role, std::string configYaml,
    Options options) {
  MERIT_ASSIGN_OR_RETURN(auto file, findSubnetPlugin(nameOrPath, explicitDirs));
  MERIT_ASSIGN_OR_RETURN(auto opened, open(file, role, std::move(configYaml), std::move(options)));
  if (isValidSubnetName(nameOrPath) && opened->name() != nameOrPath) {
    return fail(ErrorCode::kInvalidArgument, "subnet plugin " + file.string() + " calls itself '" +
                                                 opened->name() + "', not '" + std::string(nameOrPath) + "'");
  }
  return opened;
}

ReloadableInstance::Lease ReloadableInstance::acquire() {
  std::lock_guard lock(m_mutex);
  ++m_current->leases;
  return Lease(this, m_current);
}

void ReloadableInstance::release(Generation& generation) {
  std::lock_guard lock(m_mutex);
  MERIT_ASSERT(generation.leases > 0, generation.number);
  if (--generation.leases == 0 && &generation != m_current.get()) {
    if (m_draining > 0) --m_draining;
    m_drained.notify_all();
  }
}

std::uint32_t ReloadableInstance::version() const {
  std::lock_guard lock(m_mutex);
  return m_current->plugin->version();
}

FileSignature ReloadableInstance::loadedSignature() const {
  std::lock_guard lock(m_mutex);
  return m_loadedSignature;
}

ReloadableInstance::Stats ReloadableInstance::stats() const {
  std::lock_guard lock(m_mutex);
  return Stats{m_current->number, m_current->plugin->version(), m_reloads, m_refused, m_draining};
}

Result<ReloadReport> ReloadableInstance::reload() {
  std::lock_guard reloading(m_reloadMutex);
  const std::uint32_t oldVersion = version();
  auto refuse = [&](ErrorCode code, const std::string& why) -> Result<ReloadReport> {
    {
      std::lock_guard lock(m_mutex);
      ++m_refused;
    }
    return fail(code,
                fmt::format("reload of subnet plugin '{}' from {} refused: {}; still running version {}",
                            m_name, m_file.string(), why, oldVersion));
  };
  auto signature = fileSignature(m_file);
  if (!signature) return refuse(signature.error().code(), signature.error().message());
  // The checks of load() refuse another ABI major, a truncated or half-written file, a missing
  // function; this one refuses another subnet.
  auto plugin = SubnetPlugin::loadCopy(m_file);
  if (!plugin) return refuse(ErrorCode::kInvalidArgument, plugin.error().message());
  if ((*plugin)->name() != m_name) {
    return refuse(ErrorCode::kInvalidArgument,
                  fmt::format("the new file is subnet '{}', not '{}' (a plugin can only be replaced by a "
                              "build of the same subnet; restart to change subnets)",
                              (*plugin)->name(), m_name));
  }
  auto instance = (*plugin)->create(m_role, m_configYaml);
  if (!instance) return refuse(ErrorCode::kInvalidArgument, instance.error().message());

  auto next = std::make_shared<Generation>();
  next->plugin = std::move(*plugin);
  next->instance = std::move(*instance);
  ReloadReport report;
  report.oldVersion = oldVersion;
  report.newVersion = next->plugin->version();
  report.signature = *signature;
  std::shared_ptr<Generation> old;
  std::unique_lock lock(m_mutex);
  next->number = m_current->number + 1;
  report.generation = next->number;
  old = std::exchange(m_current, std::move(next));
  m_loadedSignature = *signature;
  m_liveVersion->store(report.newVersion);
  ++m_reloads;
  // Drain: no new lease reaches `old` from here; wait for the calls holding one.
  report.inFlight = old->leases;
  if (old->leases > 0) ++m_draining;
  report.drained =
      waitUntil(*m_options.clock, m_drained, lock, m_options.clock->monotonicNow() + m_options.drainTimeout,
                [&] { return old->leases == 0; });
  lock.unlock();
  // Usually the last reference: the old instance is destroyed and its copy closed here, on the
  // reloading thread. When calls are still running, the last of them does it.
  old.reset();
  return report;
}

// ---- PluginWatcher ----

PluginWatcher::PluginWatcher(ReloadableInstance& target, Options options)
    : m_target(target), m_options(options), m_lastTried(target.loadedSignature()) {}

void PluginWatcher::request() {
  {
    std::lock_guard lock(m_mutex);
    m_requested = true;
  }
  m_wake.notify_all();
}

void PluginWatcher::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
}

std::optional<Result<ReloadReport>> PluginWatcher::poll() {
  bool requested = false;
  {
    std::lock_guard lock(m_mutex);
    requested = std::exchange(m_requested, false);
  }
  bool changed = false;
  if (m_options.watchInterval.count() > 0) {
    auto now = fileSignature(m_target.file());
    if (now) {
      // Settled: the same at two polls in a row, and not what was last tried.
      changed = m_lastSeen && *m_lastSeen == *now && *now != m_lastTried;
      m_lastSeen = *now;
    } else {
      m_lastSeen.reset();  // gone for now (being replaced): look again next time
    }
  }
  if (!requested && !changed) return std::nullopt;
  MERIT_LOG_INFO(Category::kSubnet, "reloading subnet plugin '{}' from {} ({})", m_target.name(),
                 m_target.file().string(), requested ? "requested" : "the file changed");
  auto result = m_target.reload();
  if (auto s = fileSignature(m_target.file()); s) m_lastTried = result ? result->signature : *s;
  if (result) {
    MERIT_LOG_INFO(Category::kSubnet,
                   "reloaded subnet plugin '{}': version {} -> {}, generation {}, {}; {} call(s) were in "
                   "flight on the old instance{}",
                   m_target.name(), result->oldVersion, result->newVersion, result->generation,
                   describeSignature(result->signature), result->inFlight,
                   result->drained ? ", all finished" : ", still running (it is released when they end)");
  } else {
    MERIT_LOG_ERROR(Category::kSubnet, "{}", result.error().message());
  }
  return result;
}

void PluginWatcher::run(const Clock& clock) {
  const auto interval = m_options.watchInterval.count() > 0
                            ? m_options.watchInterval
                            : std::chrono::milliseconds(std::chrono::hours(24));
  for (;;) {
    {
      std::unique_lock lock(m_mutex);
      waitUntil(clock, m_wake, lock, clock.monotonicNow() + interval,
                [this] { return m_stop || m_requested; });
      if (m_stop) return;
    }
    poll();
  }
}

}  // namespace merit::subnet
