// Configuration helpers for meritnet's in-tree subnet plugins (merit_subnet_config): a strict
// reader for a plugin's YAML section whose every error names the subnet and the key, and the
// `faults:` section shared by the plugins (rates, delay, seed) with its per-request decisions.
//
//   namespace cfg = merit::plugin_config;
//   HashConfig c;
//   cfg::parse("hash", yaml).read({
//       {"rounds", [&](const cfg::Value& v) { c.rounds = v.integer<std::uint32_t>(1, 1'000'000); }},
//       {"faults", [&](const cfg::Value& v) { c.faults = cfg::parseFaults(v, kFaultSpec); }},
//   });
//
// Every error is thrown as SubnetError(Status::kInvalidArgument, "<subnet> config: <key>: <reason>"),
// e.g. "matmul config: faults.wrong_rate: '1.5' is not a number in [0, 1]", from the plugin's
// constructor, where MERIT_SUBNET_PLUGIN's guard turns it into the host's invalid_argument error.
//
// Depends on the SDK header (merit/subnet_sdk.h) and yaml-cpp (kept out of this header) only, so
// it builds like the plugins themselves: position-independent, hidden visibility, linked into
// each plugin's .so.
//
// Thread-safety: Value and Map are read by one thread during construction. FaultInjector may be
// used from any number of threads at once (its RNG is guarded by its own mutex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "merit/subnet_sdk.h"

namespace merit::plugin_config {

// Throws SubnetError(kInvalidArgument, "<subnet> config: <key>: <reason>"), or without a key
// "<subnet> config: <reason>".
[[noreturn]] void fail(std::string_view subnet, std::string_view key, std::string_view reason);

namespace detail {
struct Node;  // a yaml-cpp node (defined in plugin_config.cpp)
}

class Map;

// One value of the configuration, at a path such as "faults.drop_rate". A cheap handle to the
// parsed document (which it keeps alive).
class Value {
 public:
  const std::string& path() const { return m_path; }
  const std::string& subnet() const { return m_subnet; }

  // Throws "<subnet> config: <path>: <reason>".
  [[noreturn]] void fail(std::string_view reason) const;

  // A non-negative decimal integer in [min, max]. Errors: "must be a number" (not a scalar),
  // "'<text>' is not a non-negative integer", "<value> is outside <min>..<max>".
  std::uint64_t unsignedInt(std::uint64_t min, std::uint64_t max) const;

  // unsignedInt() converted to T; [min, max] must fit in T (a plugin bug otherwise: kInternal).
  template <typename T>
  T integer(std::uint64_t min, std::uint64_t max) const {
    if (max > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
      throw subnet_sdk::SubnetError(subnet_sdk::Status::kInternal,
                                    m_subnet + " config: " + m_path + ": range does not fit its type");
    }
    return static_cast<T>(unsignedInt(min, max));
  }

  // A number in [min, max] (NaN never is). Errors: "must be a number in [min, max]" (not a
  // scalar), "'<text>' is not a number in [min, max]"; bounds printed shortest (0, 1, 1e-12).
  double number(double min, double max) const;
  // number(0, 1): a fraction of requests.
  double rate() const { return number(0.0, 1.0); }

  // A non-empty scalar. Error: "must be a non-empty string".
  std::string string() const;

  // The index of the scalar among `choices`. Errors: "must be one of a, b, c" (not a scalar),
  // "'<text>' is not one of a, b, c".
  std::size_t oneOf(std::initializer_list<std::string_view> choices) const;

  // A nested mapping whose keys are reported as "<path>.<key>". Error: "must be a mapping".
  Map map() const;

 private:
  friend class Map;
  friend Map parse(std::string_view subnet, std::string_view yaml);
  Value(std::shared_ptr<const detail::Node> node, std::string subnet, std::string path)
      : m_node(std::move(node)), m_subnet(std::move(subnet)), m_path(std::move(path)) {}

  std::shared_ptr<const detail::Node> m_node;
  std::string m_subnet;
  std::string m_path;
};

// How one key is read: `read` is called with the key's value.
struct Field {
  std::string_view key;
  std::function<void(const Value&)> read;
};

// A mapping (the whole section, or a nested one such as `faults:`).
class Map {
 public:
  // Calls the `read` of each entry's key, in the document's order. An entry whose key is not
  // among `fields` is refused: "<key>: unknown key (known: <the fields' keys, in order>)".
  void read(std::span<const Field> fields) const;
  void read(std::initializer_list<Field> fields) const {
    read(std::span<const Field>(fields.begin(), fields.size()));
  }

  // The Value this mapping was read from (its path is "" for the whole section).
  const Value& value() const { return m_value; }

 private:
  friend class Value;
  friend Map parse(std::string_view subnet, std::string_view yaml);
  explicit Map(Value value) : m_value(std::move(value)) {}

  Value m_value;
};

// Parses one plugin's YAML section. An empty (or null) document is an empty mapping. Errors:
// "<subnet> config: line N: <yaml-cpp's message>", "<subnet> config: must be a mapping".
Map parse(std::string_view subnet, std::string_view yaml);

// --- faults: make a miner misbehave on purpose, for tests ---------------------------------------
//
//   faults:
//     wrong_rate: 0.0     fraction of answers that are wrong (if the plugin has this kind)
//     <extra>_rate: 0.0   the plugin's own kinds (hash: garbage_rate; matmul: zero_rate, random_rate)
//     drop_rate: 0.0      fraction of requests not answered at all
//     delay_ms: 0         every batch is answered this much later (0..600000)
//     seed: <random>      seed of the fault choices (reproducible fault patterns)
//
// The rates are fractions of requests and must add up to at most 1.

// Which rates a plugin accepts. Keys are listed, and summed, in the order wrong_rate, the extra
// kinds, drop_rate; one decision per request tests drop first, then the extra kinds in order,
// then wrong.
struct FaultSpec {
  bool wrong = true;                      // accepts wrong_rate
  std::vector<std::string> extraKinds{};  // full key names, e.g. "garbage_rate"
};

struct Faults {
  double wrongRate = 0;
  std::vector<double> extraRates{};  // by FaultSpec::extraKinds; missing entries are 0
  double dropRate = 0;
  std::uint32_t delayMs = 0;
  std::optional<std::uint64_t> seed{};

  double extraRate(std::size_t kind) const { return kind < extraRates.size() ? extraRates[kind] : 0.0; }
  // wrong + extras + drop, summed in that order.
  double totalRate() const;
};

// Reads the `faults:` mapping. Errors name "faults" ("faults: must be a mapping"), the key
// ("faults.delay: unknown key (known: wrong_rate, ..., drop_rate, delay_ms, seed)"), or the sum
// ("faults: wrong_rate + garbage_rate + drop_rate must be at most 1").
Faults parseFaults(const Value& faults, const FaultSpec& spec);

// One per-request fault decision.
struct Fault {
  enum class Kind { kNone, kDrop, kExtra, kWrong };
  Kind kind = Kind::kNone;
  std::size_t extra = 0;  // for kExtra: the index in FaultSpec::extraKinds

  bool none() const { return kind == Kind::kNone; }
  bool drop() const { return kind == Kind::kDrop; }
  bool wrong() const { return kind == Kind::kWrong; }
  bool isExtra(std::size_t index) const { return kind == Kind::kExtra && extra == index; }
};

// Draws the fault decisions of a miner. Seeded from faults.seed, else from std::random_device.
// For a validator it never injects anything. Neither copyable nor movable (it owns a mutex).
class FaultInjector {
 public:
  FaultInjector(Faults faults, subnet_sdk::Role role);
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  const Faults& faults() const { return m_faults; }

  // Sleeps delay_ms (a miner's handleBatch calls this first).
  void delayBatch() const;

  // One uniform draw in [0, 1) when the miner has any rate above 0 (none otherwise), compared
  // with the cumulative rates in decision order: drop, the extra kinds, wrong.
  Fault decide();

  // A uniform integer in [lo, hi] from the same RNG (for a fault's details: which element to
  // corrupt, how long the garbage is).
  std::size_t uniform(std::size_t lo, std::size_t hi);

 private:
  const Faults m_faults;
  const bool m_active;  // a miner with a rate above 0
  std::mutex m_rngMutex;
  std::mt19937_64 m_rng;  // guarded by m_rngMutex
};

}  // namespace merit::plugin_config
