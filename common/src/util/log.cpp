#include "merit/util/log.h"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace merit::log {

namespace detail {
// Constant-initialised to info, so logging during static initialisation is already filtered.
constexpr unsigned char kInfo = static_cast<unsigned char>(Level::kInfo);
std::atomic<unsigned char> g_levels[static_cast<int>(Category::kCount)] = {
    kInfo, kInfo, kInfo, kInfo, kInfo, kInfo, kInfo, kInfo, kInfo, kInfo, kInfo};
static_assert(static_cast<int>(Category::kCount) == 11, "update the initialiser above");
}  // namespace detail

namespace {

constexpr std::array<std::string_view, static_cast<int>(Category::kCount)> kCategoryNames = {
    "general",   "net",    "chain",  "rpc",    "validator", "miner",
    "consensus", "crypto", "wallet", "subnet", "serving"};

constexpr std::array<std::string_view, 6> kLevelNames = {"trace", "debug", "info", "warn", "error", "off"};

// The spdlog side: one logger a category, all sharing one sink. Guarded by g_mutex when the
// sink is replaced; spdlog loggers are themselves thread-safe (_mt sinks).
struct Backend {
  std::mutex mutex;
  std::shared_ptr<spdlog::sinks::sink> sink;
  std::array<std::shared_ptr<spdlog::logger>, static_cast<int>(Category::kCount)> loggers;

  Backend() { setSink(std::make_shared<spdlog::sinks::stderr_sink_mt>()); }

  void setSink(std::shared_ptr<spdlog::sinks::sink> s) {
    std::lock_guard lock(mutex);
    sink = std::move(s);
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ [%n] %v",
                                                                    spdlog::pattern_time_type::utc));
    for (int i = 0; i < static_cast<int>(Category::kCount); ++i) {
      auto l = std::make_shared<spdlog::logger>(std::string(kCategoryNames[i]), sink);
      l->set_level(spdlog::level::trace);  // filtering happens in enabled()
      std::atomic_store(&loggers[i], l);
    }
  }
};

Backend& backend() {
  static Backend b;
  return b;
}

spdlog::level::level_enum toSpd(Level l) {
  switch (l) {
    case Level::kTrace: return spdlog::level::trace;
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
    case Level::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view categoryName(Category c) {
  auto i = static_cast<int>(c);
  return i < static_cast<int>(Category::kCount) ? kCategoryNames[i] : "unknown";
}

Result<Level> parseLevel(std::string_view name) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
    if (kLevelNames[i] == name) return static_cast<Level>(i);
  }
  if (name == "warning") return Level::kWarn;
  return fail(ErrorCode::kInvalidArgument, "unknown log level '" + std::string(name) +
                                               "' (expected trace, debug, info, warn, error or off)");
}

Result<Category> parseCategory(std::string_view name) {
  for (std::size_t i = 0; i < kCategoryNames.size(); ++i) {
    if (kCategoryNames[i] == name) return static_cast<Category>(i);
  }
  return fail(ErrorCode::kInvalidArgument, "unknown log category '" + std::string(name) + "'");
}

Result<void> configure(std::string_view spec) {
  // Parse everything first so a bad spec changes nothing.
  std::array<unsigned char, static_cast<int>(Category::kCount)> next{};
  for (int i = 0; i < static_cast<int>(Category::kCount); ++i) next[i] = detail::g_levels[i].load();
  bool first = true;
  while (true) {
    auto comma = spec.find(',');
    auto item = trim(spec.substr(0, comma));
    if (!item.empty()) {
      auto eq = item.find('=');
      if (eq == std::string_view::npos) {
        if (!first) {
          return fail(ErrorCode::kInvalidArgument,
                      "log spec: a bare level may only come first, got '" + std::string(item) + "'");
        }
        MERIT_ASSIGN_OR_RETURN(Level all, parseLevel(item));
        next.fill(static_cast<unsigned char>(all));
      } else {
        MERIT_ASSIGN_OR_RETURN(Category c, parseCategory(trim(item.substr(0, eq))));
        MERIT_ASSIGN_OR_RETURN(Level l, parseLevel(trim(item.substr(eq + 1))));
        next[static_cast<int>(c)] = static_cast<unsigned char>(l);
      }
    }
    first = false;
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  for (int i = 0; i < static_cast<int>(Category::kCount); ++i) detail::g_levels[i].store(next[i]);
  return {};
}

void setLevel(Level lvl) {
  for (auto& l : detail::g_levels) l.store(static_cast<unsigned char>(lvl));
}

void setLevel(Category category, Level lvl) {
  detail::g_levels[static_cast<int>(category)].store(static_cast<unsigned char>(lvl));
}

Level level(Category category) {
  return static_cast<Level>(detail::g_levels[static_cast<int>(category)].load());
}

std::string spec() {
  std::array<int, kLevelNames.size()> uses{};
  for (const auto& l : detail::g_levels) ++uses[l.load()];
  std::size_t common = 0;
  for (std::size_t i = 1; i < uses.size(); ++i) {
    if (uses[i] > uses[common]) common = i;
  }
  std::string out(kLevelNames[common]);
  for (int i = 0; i < static_cast<int>(Category::kCount); ++i) {
    const unsigned char l = detail::g_levels[i].load();
    if (l == common) continue;
    out += ',';
    out += kCategoryNames[i];
    out += '=';
    out += kLevelNames[l];
  }
  return out;
}

Result<void> exportToEnvironment() {
  if (::setenv(kEnvironmentVariable, spec().c_str(), 1) != 0) {
    return fail(ErrorCode::kInternal,
                std::string("cannot set ") + kEnvironmentVariable + ": " + std::strerror(errno));
  }
  return {};
}

Result<void> setOutputFile(const std::string& path) {
  try {
    backend().setSink(std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false));
  } catch (const spdlog::spdlog_ex& e) {
    return fail(ErrorCode::kUnavailable, "cannot open log file " + path + ": " + e.what());
  }
  return {};
}

void write(Category category, Level lvl, std::string_view message) {
  auto l = std::atomic_load(&backend().loggers[static_cast<int>(category)]);
  l->log(toSpd(lvl), "{}", message);
  if (lvl >= Level::kWarn) l->flush();
}

bool RateLimiter::allow(std::uint64_t& suppressed) {
  using namespace std::chrono;
  std::int64_t now = duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  std::int64_t start = m_windowStartMs.load(std::memory_order_relaxed);
  if (now - start >= 1000 && m_windowStartMs.compare_exchange_strong(start, now)) {
    m_inWindow.store(0, std::memory_order_relaxed);
  }
  if (m_inWindow.fetch_add(1, std::memory_order_relaxed) < m_perSecond) {
    suppressed = m_suppressed.exchange(0, std::memory_order_relaxed);
    return true;
  }
  m_suppressed.fetch_add(1, std::memory_order_relaxed);
  return false;
}

namespace {

// Applies MERIT_LOG when this copy of the façade is initialised (see kEnvironmentVariable). Defined
// last, so everything it uses is initialised before it runs.
struct ApplyEnvironment {
  ApplyEnvironment() {
    const char* value = std::getenv(kEnvironmentVariable);
    if (value == nullptr || *value == '\0') return;
    if (auto ok = configure(value); !ok) {
      write(Category::kGeneral, Level::kWarn,
            std::string("ignoring ") + kEnvironmentVariable + ": " + ok.error().message());
    }
  }
} g_applyEnvironment;

}  // namespace

}  // namespace merit::log
