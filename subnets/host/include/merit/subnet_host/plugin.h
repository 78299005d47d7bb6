// Loading subnet plugins through the C ABI (merit/subnet_abi.h), with a C++ face that returns
// merit::Result and never lets a plugin's failure become the host's crash.
//
// Thread-safety: a SubnetPlugin is immutable after load() and may be shared between threads
// (create() may be called from any thread). A SubnetInstance's handleBatch, makeChallenge and
// scoreResponse may be called from several threads at once; when the plugin sets
// MERIT_SUBNET_FLAG_SERIAL the instance serialises them on its own mutex. Destroy an instance
// only after every call on it has returned.
//
// Lifetime: every SubnetInstance keeps its SubnetPlugin (and so the shared object) alive; the
// object is dlclose()d after the last instance and the last SubnetPlugin reference are gone.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "merit/subnet_abi.h"
#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit::subnet {

enum class Role : std::int32_t {
  kMiner = MERIT_SUBNET_ROLE_MINER,
  kValidator = MERIT_SUBNET_ROLE_VALIDATOR,
};

// Per-request outcome of handleBatch (the ABI's status codes).
enum class RequestStatus : std::int32_t {
  kOk = MERIT_SUBNET_OK,
  kInvalidArgument = MERIT_SUBNET_INVALID_ARGUMENT,  // the request was malformed: caller's fault
  kUnsupported = MERIT_SUBNET_UNSUPPORTED,
  kDrop = MERIT_SUBNET_DROP,  // send no answer
  kOverloaded = MERIT_SUBNET_OVERLOADED,
  kInternal = MERIT_SUBNET_INTERNAL,  // the plugin failed; also any unknown code
};

// Stable upper-case name ("OK", "INVALID_ARGUMENT", "DROP", ...).
std::string_view requestStatusName(RequestStatus status);

struct HandledRequest {
  RequestStatus status = RequestStatus::kInternal;
  Bytes body;           // the response when status is kOk
  std::string message;  // the plugin's explanation otherwise (may be empty)
};

struct Challenge {
  Bytes request;      // sent to the miner
  Bytes expectation;  // kept by the validator, given back to scoreResponse
};

class SubnetInstance;

class SubnetPlugin : public std::enable_shared_from_this<SubnetPlugin> {
 public:
  // dlopen()s `file` (RTLD_NOW | RTLD_LOCAL), finds MERIT_SUBNET_PLUGIN_SYMBOL and checks the
  // table: kNotFound for a missing file; kInvalidArgument for a file that is not loadable, has
  // no entry point, was built for another ABI major, has a table smaller than this host needs,
  // lacks a function or has an invalid name.
  static Result<std::shared_ptr<SubnetPlugin>> load(const std::filesystem::path& file);

  // load() from a private copy of `file`: a new file (so a new inode) next to it, named
  // ".<name>.reload-XXXXXX", or in a fresh directory under $TMPDIR (which must then allow
  // executable mappings) when that directory is not writable; removed again as soon as it is
  // mapped. The dynamic loader returns the object already loaded for a path or inode it has seen,
  // so reloading a rebuilt plugin must go through a copy; and a build running from a copy is not
  // disturbed when the original is overwritten in place. path() is still `file`.
  // `whenNotWritable` says what to do when no copy can be made next to `file`: copy under $TMPDIR
  // (reloads need a copy), or load `file` itself (a first load: a plugin that finds files next
  // to itself still finds them).
  enum class CopyFallback { kTempDir, kOriginal };
  static Result<std::shared_ptr<SubnetPlugin>> loadCopy(
      const std::filesystem::path& file, CopyFallback whenNotWritable = CopyFallback::kTempDir);

  // findSubnetPlugin() + load(); when looked up by name, the plugin's own name must match.
  static Result<std::shared_ptr<SubnetPlugin>> find(std::string_view nameOrPath,
                                                    std::span<const std::string> explicitDirs);

  ~SubnetPlugin();
  SubnetPlugin(const SubnetPlugin&) = delete;
  SubnetPlugin& operator=(const SubnetPlugin&) = delete;

  const std::string& name() const { return m_name; }
  std::uint32_t version() const { return m_table->version; }
  std::uint16_t abiMinor() const { return m_table->abi_minor; }
  std::uint64_t flags() const { return m_table->flags; }
  const std::filesystem::path& path() const { return m_path; }

  // Creates an instance from the plugin's YAML config (may be empty). A refusal carries the
  // plugin's own message: kInvalidArgument for a bad config, kInternal for a plugin failure.
  Result<std::unique_ptr<SubnetInstance>> create(Role role, std::string_view configYaml);

  // The raw table, for hosts that need a field added in a later minor version.
  const MeritSubnetPluginV1& table() const { return *m_table; }

 private:
  struct LibraryCloser {
    void operator()(void* handle) const;
  };
  SubnetPlugin(std::filesystem::path path, std::unique_ptr<void, LibraryCloser> library,
               const MeritSubnetPluginV1* table);
  // Maps `openPath` and checks its table; errors and path() name `file`.
  static Result<std::shared_ptr<SubnetPlugin>> open(const std::filesystem::path& file,
                                                    const std::filesystem::path& openPath);

  std::filesystem::path m_path;
  std::unique_ptr<void, LibraryCloser> m_library;
  const MeritSubnetPluginV1* m_table;  // owned by the library
  std::string m_name;
};

class SubnetInstance {
 public:
  ~SubnetInstance();
  SubnetInstance(const SubnetInstance&) = delete;
  SubnetInstance& operator=(const SubnetInstance&) = delete;

  Role role() const { return m_role; }
  const SubnetPlugin& plugin() const { return *m_plugin; }

  // Miner side: one HandledRequest per request, in order. A failed batch (the plugin returned
  // an error, e.g. it threw) is kInternal with the plugin's message; the instance stays usable.
  Result<std::vector<HandledRequest>> handleBatch(std::span<const ByteView> requests);

  // Validator side.
  Result<Challenge> makeChallenge();
  // Quality in [0, 1]. An error means the validator could not score: never the miner's fault.
  Result<double> scoreResponse(ByteView expectation, ByteView response);

 private:
  friend class SubnetPlugin;
  SubnetInstance(std::shared_ptr<SubnetPlugin> plugin, MeritSubnetInstance* handle, Role role);

  // Takes m_serialMutex when the plugin asked for serial calls.
  std::unique_lock<std::mutex> lockIfSerial();
  Error pluginError(MeritSubnetStatus status, std::string_view function) const;
  Bytes takeBuffer(MeritSubnetBuffer& buffer) const;

  std::shared_ptr<SubnetPlugin> m_plugin;  // keeps the shared object loaded
  const MeritSubnetPluginV1* m_table;
  MeritSubnetInstance* m_handle;  // owned; released with m_table->destroy
  Role m_role;
  bool m_serial;
  std::mutex m_serialMutex;  // guards calls into m_handle when m_serial
};

}  // namespace merit::subnet
