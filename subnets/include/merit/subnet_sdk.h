// The C++ SDK for subnet plugins: write a class, add one macro, and the C table of
// merit/subnet_abi.h is generated for you, with every exception caught at the boundary.
//
// Thread-safety: the SDK itself keeps only a per-thread last-error string. Your class's
// handleBatch, makeChallenge and scoreResponse may run on several host threads at once on the
// same object (make them thread-safe, or declare `static constexpr std::uint64_t kPluginFlags =
// MERIT_SUBNET_FLAG_SERIAL;` in the class and the host serialises calls per instance). The
// constructor and destructor never overlap any other call on the same object.
//
//   class EchoSubnet final : public merit::subnet_sdk::Subnet {
//    public:
//     EchoSubnet(std::string_view configYaml, merit::subnet_sdk::Role role);
//     std::vector<merit::subnet_sdk::Reply> handleBatch(
//         std::span<const merit::subnet_sdk::ByteSpan> requests) override;
//   };
//   MERIT_SUBNET_PLUGIN(EchoSubnet, "echo", 1)
//
// The class is constructed as `ClassName(std::string_view configYaml, Role role)`; throw from
// the constructor to refuse a configuration (throw SubnetError(Status::kInvalidArgument, ...)
// naming the key). Any exception thrown by your code becomes a status code plus the message
// returned by last_error(): SubnetError carries its own status, anything else is INTERNAL.
//
// Header-only, standard C++20 only. Include it from exactly the sources of one plugin; build the
// plugin with hidden visibility so that MERIT_SUBNET_PLUGIN's entry point is its only export.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "merit/subnet_abi.h"

namespace merit::subnet_sdk {

// Borrowed bytes (valid during the call only) and owned bytes.
using ByteSpan = std::span<const std::uint8_t>;
using Buffer = std::vector<std::uint8_t>;

enum class Role : std::int32_t {
  kMiner = MERIT_SUBNET_ROLE_MINER,
  kValidator = MERIT_SUBNET_ROLE_VALIDATOR,
};

enum class Status : std::int32_t {
  kOk = MERIT_SUBNET_OK,
  kInvalidArgument = MERIT_SUBNET_INVALID_ARGUMENT,
  kUnsupported = MERIT_SUBNET_UNSUPPORTED,
  kDrop = MERIT_SUBNET_DROP,
  kOverloaded = MERIT_SUBNET_OVERLOADED,
  kInternal = MERIT_SUBNET_INTERNAL,
};

// Throw this to fail a call (or refuse a config in the constructor) with a specific status.
class SubnetError : public std::runtime_error {
 public:
  SubnetError(Status status, const std::string& message) : std::runtime_error(message), m_status(status) {}
  Status status() const noexcept { return m_status; }

 private:
  Status m_status;
};

// The answer to one request of a batch.
struct Reply {
  Status status = Status::kOk;
  Buffer body;          // the response, when status is kOk
  std::string message;  // why, when status is not kOk (sent to the caller; keep it short)

  static Reply ok(Buffer body) { return Reply{Status::kOk, std::move(body), {}}; }
  static Reply failed(Status status, std::string message) { return Reply{status, {}, std::move(message)}; }
  // No answer at all: the caller sees a timeout.
  static Reply drop() { return Reply{Status::kDrop, {}, {}}; }
};

// A validator's challenge: what is sent to the miner, and what the validator keeps to score it.
struct Challenge {
  Buffer request;
  Buffer expectation;
};

// Base class of a subnet. Override the side(s) your subnet has; the defaults refuse with
// kUnsupported. The SDK only calls handleBatch on miner instances and makeChallenge and
// scoreResponse on validator instances.
class Subnet {
 public:
  Subnet() = default;
  virtual ~Subnet() = default;
  Subnet(const Subnet&) = delete;
  Subnet& operator=(const Subnet&) = delete;

  // Miner side: exactly one Reply per request, in order.
  virtual std::vector<Reply> handleBatch(std::span<const ByteSpan> requests) {
    (void)requests;
    throw SubnetError(Status::kUnsupported, "this subnet has no miner side");
  }
  // Validator side.
  virtual Challenge makeChallenge() {
    throw SubnetError(Status::kUnsupported, "this subnet has no validator side");
  }
  // Quality in [0, 1]; a wrong or malformed response is 0, not an exception.
  virtual double scoreResponse(ByteSpan expectation, ByteSpan response) {
    (void)expectation;
    (void)response;
    throw SubnetError(Status::kUnsupported, "this subnet has no validator side");
  }
};

namespace detail {

// True for a valid subnet name: 1-64 characters of [a-z0-9_].
constexpr bool isValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

template <typename T>
concept PluginClass = std::derived_from<T, Subnet> && std::constructible_from<T, std::string_view, Role>;

template <typename T>
constexpr std::uint64_t pluginFlags() {
  if constexpr (requires { T::kPluginFlags; }) {
    return static_cast<std::uint64_t>(T::kPluginFlags);
  } else {
    return 0;
  }
}

// The calling thread's last error (see last_error in subnet_abi.h).
inline std::string& lastError() noexcept {
  thread_local std::string message;
  return message;
}

inline MeritSubnetStatus failWith(Status status, const char* message) noexcept {
  try {
    lastError() = message;
  } catch (...) {  // out of memory: keep whatever fits (nothing)
    lastError().clear();
  }
  return status == Status::kOk ? MERIT_SUBNET_INTERNAL : static_cast<MeritSubnetStatus>(status);
}

// Runs `body` and turns every exception into a status code plus lastError().
template <typename F>
MeritSubnetStatus guard(F&& body) noexcept {
  lastError().clear();
  try {
    body();
    return MERIT_SUBNET_OK;
  } catch (const SubnetError& e) {
    return failWith(e.status(), e.what());
  } catch (const std::bad_alloc&) {
    return failWith(Status::kInternal, "out of memory");
  } catch (const std::exception& e) {
    return failWith(Status::kInternal, e.what());
  } catch (...) {
    return failWith(Status::kInternal, "unknown exception");
  }
}

inline bool isKnownStatus(Status s) {
  switch (s) {
    case Status::kOk:
    case Status::kInvalidArgument:
    case Status::kUnsupported:
    case Status::kDrop:
    case Status::kOverloaded:
    case Status::kInternal: return true;
  }
  return false;
}

// Copies `bytes` into a buffer the host will release with free_buffer (std::free).
inline void copyOut(ByteSpan bytes, MeritSubnetBuffer& out) {
  out = MeritSubnetBuffer{nullptr, 0};
  if (bytes.empty()) return;
  auto* data = static_cast<std::uint8_t*>(std::malloc(bytes.size()));
  if (data == nullptr) throw std::bad_alloc();
  std::memcpy(data, bytes.data(), bytes.size());
  out = MeritSubnetBuffer{data, bytes.size()};
}

inline void release(MeritSubnetBuffer& buffer) noexcept {
  std::free(buffer.data);
  buffer = MeritSubnetBuffer{nullptr, 0};
}

inline ByteSpan borrow(MeritSubnetBytes bytes) {
  return bytes.data == nullptr ? ByteSpan{} : ByteSpan{bytes.data, bytes.size};
}

inline ByteSpan bytesOf(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace detail
}  // namespace merit::subnet_sdk

// The instance handle as this plugin defines it (opaque to the host).
struct MeritSubnetInstance {
  std::unique_ptr<merit::subnet_sdk::Subnet> subnet;
  merit::subnet_sdk::Role role;
};

namespace merit::subnet_sdk::detail {

inline Subnet& checkedSubnet(MeritSubnetInstance* instance, Role needed, const char* function) {
  if (instance == nullptr || !instance->subnet) {
    throw SubnetError(Status::kInvalidArgument, std::string(function) + ": no instance");
  }
  if (instance->role != needed) {
    throw SubnetError(
        Status::kUnsupported,
        std::string(function) + " needs a " + (needed == Role::kMiner ? "miner" : "validator") + " instance");
  }
  return *instance->subnet;
}

template <PluginClass T>
MeritSubnetStatus create(const std::uint8_t* config, std::size_t configSize, MeritSubnetRole role,
                         MeritSubnetInstance** out) noexcept {
  return guard([&] {
    if (out == nullptr) throw SubnetError(Status::kInvalidArgument, "create: out is NULL");
    if (role != MERIT_SUBNET_ROLE_MINER && role != MERIT_SUBNET_ROLE_VALIDATOR) {
      throw SubnetError(Status::kInvalidArgument, "create: unknown role " + std::to_string(role));
    }
    std::string_view yaml;
    if (config != nullptr) yaml = std::string_view(reinterpret_cast<const char*>(config), configSize);
    auto instance = std::make_unique<MeritSubnetInstance>();
    instance->role = static_cast<Role>(role);
    instance->subnet = std::make_unique<T>(yaml, instance->role);
    *out = instance.release();
  });
}

// Destructors are noexcept: one that throws terminates the process, as anywhere in C++.
inline void destroy(MeritSubnetInstance* instance) noexcept {
  std::unique_ptr<MeritSubnetInstance> owned(instance);
}

inline MeritSubnetStatus handleBatch(MeritSubnetInstance* instance, const MeritSubnetBytes* requests,
                                     std::size_t count, MeritSubnetBuffer* responses,
                                     MeritSubnetStatus* statuses) noexcept {
  return guard([&] {
    Subnet& subnet = checkedSubnet(instance, Role::kMiner, "handle_batch");
    if (count > 0 && (requests == nullptr || responses == nullptr || statuses == nullptr)) {
      throw SubnetError(Status::kInvalidArgument, "handle_batch: NULL array");
    }
    std::vector<ByteSpan> spans;
    spans.reserve(count);
    for (std::size_t i = 0; i < count; ++i) spans.push_back(borrow(requests[i]));
    std::vector<Reply> replies = subnet.handleBatch(spans);
    if (replies.size() != count) {
      throw SubnetError(Status::kInternal, "handleBatch returned " + std::to_string(replies.size()) +
                                               " replies for " + std::to_string(count) + " requests");
    }
    std::size_t written = 0;
    try {
      for (; written < count; ++written) {
        const Reply& reply = replies[written];
        const Status status = isKnownStatus(reply.status) ? reply.status : Status::kInternal;
        statuses[written] = static_cast<MeritSubnetStatus>(status);
        copyOut(status == Status::kOk ? ByteSpan(reply.body) : bytesOf(reply.message), responses[written]);
      }
    } catch (...) {
      for (std::size_t i = 0; i < written; ++i) release(responses[i]);
      throw;
    }
  });
}

inline MeritSubnetStatus makeChallenge(MeritSubnetInstance* instance, MeritSubnetBuffer* request,
                                       MeritSubnetBuffer* expectation) noexcept {
  return guard([&] {
    Subnet& subnet = checkedSubnet(instance, Role::kValidator, "make_challenge");
    if (request == nullptr || expectation == nullptr) {
      throw SubnetError(Status::kInvalidArgument, "make_challenge: NULL output");
    }
    Challenge challenge = subnet.makeChallenge();
    copyOut(challenge.request, *request);
    try {
      copyOut(challenge.expectation, *expectation);
    } catch (...) {
      release(*request);
      throw;
    }
  });
}

inline MeritSubnetStatus scoreResponse(MeritSubnetInstance* instance, MeritSubnetBytes expectation,
                                       MeritSubnetBytes response, double* quality) noexcept {
  return guard([&] {
    Subnet& subnet = checkedSubnet(instance, Role::kValidator, "score_response");
    if (quality == nullptr) throw SubnetError(Status::kInvalidArgument, "score_response: quality is NULL");
    const double q = subnet.scoreResponse(borrow(expectation), borrow(response));
    if (!(q >= 0.0 && q <= 1.0)) {  // also catches NaN
      throw SubnetError(Status::kInternal,
                        "scoreResponse returned " + std::to_string(q) + ", outside [0, 1]");
    }
    *quality = q;
  });
}

inline const char* lastErrorC() noexcept {
  return lastError().c_str();
}

inline void freeBuffer(std::uint8_t* data, std::size_t size) noexcept {
  (void)size;
  std::free(data);
}

template <PluginClass T>
constexpr MeritSubnetPluginV1 makeTable(const char* name, std::uint32_t version) {
  MeritSubnetPluginV1 table{};
  table.struct_size = sizeof(MeritSubnetPluginV1);
  table.abi_major = MERIT_SUBNET_ABI_MAJOR;
  table.abi_minor = MERIT_SUBNET_ABI_MINOR;
  table.name = name;
  table.version = version;
  table.reserved0 = 0;
  table.flags = pluginFlags<T>();
  table.create = &create<T>;
  table.destroy = &destroy;
  table.handle_batch = &handleBatch;
  table.make_challenge = &makeChallenge;
  table.score_response = &scoreResponse;
  table.last_error = &lastErrorC;
  table.free_buffer = &freeBuffer;
  return table;
}

}  // namespace merit::subnet_sdk::detail

// Exports the plugin: MERIT_SUBNET_PLUGIN(ClassName, "name", version) at namespace scope, once per
// plugin. `name` is a string literal of 1-64 characters [a-z0-9_]; `version` is the payload
// version (see MeritSubnetPluginV1::version). Defines merit_subnet_plugin_v1, the only symbol the
// plugin exports (MERIT_SUBNET_PLUGIN_SYMBOL).
#define MERIT_SUBNET_PLUGIN(ClassName, name, version)                                                 \
  static_assert(::merit::subnet_sdk::detail::isValidName(name),                                       \
                "MERIT_SUBNET_PLUGIN: the name must be 1-64 characters of [a-z0-9_]");                \
  static_assert(::merit::subnet_sdk::detail::PluginClass<ClassName>,                                  \
                "MERIT_SUBNET_PLUGIN: the class must derive from merit::subnet_sdk::Subnet and be "   \
                "constructible from (std::string_view configYaml, merit::subnet_sdk::Role role)");    \
  extern "C" MERIT_SUBNET_EXPORT const MeritSubnetPluginV1* merit_subnet_plugin_v1(void);             \
  extern "C" MERIT_SUBNET_EXPORT const MeritSubnetPluginV1* merit_subnet_plugin_v1(void) {            \
    static const MeritSubnetPluginV1 kTable =                                                         \
        ::merit::subnet_sdk::detail::makeTable<ClassName>(name, static_cast<std::uint32_t>(version)); \
    return &kTable;                                                                                   \
  }
