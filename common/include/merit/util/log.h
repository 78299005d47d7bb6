// The logging façade: categories and levels over spdlog, which stays out of this header.
//
// Thread-safety: every function may be called from any thread. The logger is meritnet's only
// global; it writes to stderr unless setOutputFile() is called.
//
//   MERIT_LOG_INFO(log::Category::kChain, "imported block {} ({} extrinsics)", n, count);
//   MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug, "bad frame from {}", peer);
//
// Never log secrets or payloads. Peer-triggered paths log at debug and are rate-limited.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "merit/util/result.h"

namespace merit::log {

enum class Category : unsigned char {
  kGeneral,
  kNet,
  kChain,
  kRpc,
  kValidator,
  kMiner,
  kConsensus,
  kCrypto,
  kWallet,
  kSubnet,
  kServing,
  kCount  // not a category
};
enum class Level : unsigned char { kTrace, kDebug, kInfo, kWarn, kError, kOff };

std::string_view categoryName(Category c);
Result<Level> parseLevel(std::string_view name);
Result<Category> parseCategory(std::string_view name);

// Sets levels from a spec: "info" (all categories), or "warn,net=debug,chain=trace".
Result<void> configure(std::string_view spec);
void setLevel(Level level);  // all categories
void setLevel(Category category, Level level);
Level level(Category category);
inline bool enabled(Category category, Level lvl);

// The current levels as a spec that configure() accepts: the most common level bare, then the
// categories that differ ("warn", "info,net=debug").
std::string spec();

// The environment variable that carries a log spec to every copy of this façade in a process.
// Each copy (the binary's own, and one in each subnet plugin that links merit_util statically,
// such as fashion_mnist and charlm through merit_serving) applies it once, when that copy is
// initialised: at program start, or when the plugin is dlopen()ed. A bad value is ignored with a
// warning. Daemons then apply their own --log-level / log_level, and export the result with
// exportToEnvironment() so the plugins they load log at the same levels.
inline constexpr const char* kEnvironmentVariable = "MERIT_LOG";

// Sets MERIT_LOG to spec(). setenv() is not thread-safe: call it from main() before any thread
// starts, and before loading plugins.
Result<void> exportToEnvironment();

// Sends all output to a file (appending) instead of stderr.
Result<void> setOutputFile(const std::string& path);

// Writes one already-formatted line. Prefer the macros.
void write(Category category, Level lvl, std::string_view message);

template <typename... Args>
void log(Category category, Level lvl, fmt::format_string<Args...> format, Args&&... args) {
  if (!enabled(category, lvl)) return;
  write(category, lvl, fmt::format(format, std::forward<Args>(args)...));
}

// Allows at most `perSecond` events each second; counts what it refused so the next allowed
// line can say how many were dropped. Lock-free and approximate under contention.
class RateLimiter {
 public:
  explicit RateLimiter(std::uint32_t perSecond) : m_perSecond(perSecond) {}
  // True if this event may be logged; `suppressed` receives the count dropped since the last
  // allowed event.
  bool allow(std::uint64_t& suppressed);

 private:
  const std::uint32_t m_perSecond;
  std::atomic<std::int64_t> m_windowStartMs{0};
  std::atomic<std::uint32_t> m_inWindow{0};
  std::atomic<std::uint64_t> m_suppressed{0};
};

namespace detail {
extern std::atomic<unsigned char> g_levels[static_cast<int>(Category::kCount)];
}

inline bool enabled(Category category, Level lvl) {
  return static_cast<unsigned char>(lvl) >=
             detail::g_levels[static_cast<int>(category)].load(std::memory_order_relaxed) &&
         lvl != Level::kOff;
}

}  // namespace merit::log

#define MERIT_LOG_TRACE(cat, ...) ::merit::log::log(cat, ::merit::log::Level::kTrace, __VA_ARGS__)
#define MERIT_LOG_DEBUG(cat, ...) ::merit::log::log(cat, ::merit::log::Level::kDebug, __VA_ARGS__)
#define MERIT_LOG_INFO(cat, ...) ::merit::log::log(cat, ::merit::log::Level::kInfo, __VA_ARGS__)
#define MERIT_LOG_WARN(cat, ...) ::merit::log::log(cat, ::merit::log::Level::kWarn, __VA_ARGS__)
#define MERIT_LOG_ERROR(cat, ...) ::merit::log::log(cat, ::merit::log::Level::kError, __VA_ARGS__)

// At most 10 lines a second from this call site; the next line after a burst reports how many
// were suppressed.
#define MERIT_LOG_RATE_LIMITED(cat, lvl, ...)                                               \
  do {                                                                                      \
    if (::merit::log::enabled(cat, lvl)) {                                                  \
      static ::merit::log::RateLimiter merit_log_limiter_(10);                              \
      std::uint64_t merit_log_dropped_ = 0;                                                 \
      if (merit_log_limiter_.allow(merit_log_dropped_)) {                                   \
        if (merit_log_dropped_ > 0) {                                                       \
          ::merit::log::log(cat, lvl, "({} similar lines suppressed)", merit_log_dropped_); \
        }                                                                                   \
        ::merit::log::log(cat, lvl, __VA_ARGS__);                                           \
      }                                                                                     \
    }                                                                                       \
  } while (false)
