#include "merit/subnet_host/plugin.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <system_error>
#include <unistd.h>
#include <utility>

#include <fmt/format.h>

#include "merit/subnet_host/search_path.h"

namespace merit::subnet {

namespace {

std::string describe(const std::filesystem::path& file) {
  return "subnet plugin " + file.string();
}

// The plugin's message for the calling thread's last failure, bounded so a broken plugin cannot
// flood logs.
std::string lastPluginError(const MeritSubnetPluginV1& table) {
  constexpr std::size_t kMaxMessage = 1024;
  const char* message = table.last_error();
  if (message == nullptr || *message == '\0') return "no message";
  return std::string(message, strnlen(message, kMaxMessage));
}

RequestStatus toRequestStatus(MeritSubnetStatus status) {
  switch (status) {
    case MERIT_SUBNET_OK: return RequestStatus::kOk;
    case MERIT_SUBNET_INVALID_ARGUMENT: return RequestStatus::kInvalidArgument;
    case MERIT_SUBNET_UNSUPPORTED: return RequestStatus::kUnsupported;
    case MERIT_SUBNET_DROP: return RequestStatus::kDrop;
    case MERIT_SUBNET_OVERLOADED: return RequestStatus::kOverloaded;
    default: return RequestStatus::kInternal;
  }
}

ErrorCode toErrorCode(MeritSubnetStatus status) {
  switch (status) {
    case MERIT_SUBNET_INVALID_ARGUMENT:
    case MERIT_SUBNET_UNSUPPORTED: return ErrorCode::kInvalidArgument;
    case MERIT_SUBNET_OVERLOADED: return ErrorCode::kOverloaded;
    default: return ErrorCode::kInternal;
  }
}

// The dynamic loader maps a shared object's segments as its headers describe them; on a file cut
// short (a plugin still being copied) the pages past the end raise SIGBUS when touched, inside
// dlopen(). So before dlopen: every segment and the section header table must lie within the file.
template <class Ehdr, class Phdr>
Result<void> checkElfExtent(std::FILE* file, std::uint64_t size, const std::string& what) {
  Ehdr header{};
  if (std::fseek(file, 0, SEEK_SET) != 0 || std::fread(&header, sizeof header, 1, file) != 1) {
    return fail(ErrorCode::kInvalidArgument, what + " cannot be loaded: shorter than an ELF header");
  }
  const auto truncated = [&](std::uint64_t needed) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("{} cannot be loaded: truncated ({} bytes, its ELF headers describe at least {}; "
                            "is it still being written?)",
                            what, size, needed));
  };
  if (header.e_phentsize != sizeof(Phdr)) {
    return fail(ErrorCode::kInvalidArgument, what + " cannot be loaded: unexpected ELF program header size");
  }
  const std::uint64_t phEnd = std::uint64_t{header.e_phoff} + std::uint64_t{header.e_phnum} * sizeof(Phdr);
  if (phEnd > size) return truncated(phEnd);
  const std::uint64_t shEnd =
      std::uint64_t{header.e_shoff} + std::uint64_t{header.e_shnum} * std::uint64_t{header.e_shentsize};
  if (shEnd > size) return truncated(shEnd);
  for (std::uint64_t i = 0; i < header.e_phnum; ++i) {
    Phdr ph{};
    if (std::fseek(file, static_cast<long>(header.e_phoff + i * sizeof(Phdr)), SEEK_SET) != 0 ||
        std::fread(&ph, sizeof ph, 1, file) != 1) {
      return truncated(phEnd);
    }
    const std::uint64_t end = std::uint64_t{ph.p_offset} + std::uint64_t{ph.p_filesz};
    if (end > size) return truncated(end);
  }
  return {};
}

Result<void> checkElfComplete(const std::filesystem::path& path, const std::string& what) {
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return fail(ErrorCode::kNotFound, what + " cannot be read: " + ec.message());
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return fail(ErrorCode::kNotFound, what + " cannot be opened: " + std::strerror(errno));
  unsigned char ident[EI_NIDENT] = {};
  if (std::fread(ident, sizeof ident, 1, file.get()) != 1 || std::memcmp(ident, ELFMAG, SELFMAG) != 0) {
    return fail(ErrorCode::kInvalidArgument, what + " cannot be loaded: not an ELF file (or cut short)");
  }
  if (ident[EI_CLASS] == ELFCLASS64) return checkElfExtent<Elf64_Ehdr, Elf64_Phdr>(file.get(), size, what);
  if (ident[EI_CLASS] == ELFCLASS32) return checkElfExtent<Elf32_Ehdr, Elf32_Phdr>(file.get(), size, what);
  return fail(ErrorCode::kInvalidArgument, what + " cannot be loaded: unknown ELF class");
}

}  // namespace

std::string_view requestStatusName(RequestStatus status) {
  switch (status) {
    case RequestStatus::kOk: return "OK";
    case RequestStatus::kInvalidArgument: return "INVALID_ARGUMENT";
    case RequestStatus::kUnsupported: return "UNSUPPORTED";
    case RequestStatus::kDrop: return "DROP";
    case RequestStatus::kOverloaded: return "OVERLOADED";
    case RequestStatus::kInternal: return "INTERNAL";
  }
  return "INTERNAL";
}

void SubnetPlugin::LibraryCloser::operator()(void* handle) const {
  if (handle != nullptr) dlclose(handle);
}

SubnetPlugin::SubnetPlugin(std::filesystem::path path, std::unique_ptr<void, LibraryCloser> library,
                           const MeritSubnetPluginV1* table)
    : m_path(std::move(path)), m_library(std::move(library)), m_table(table), m_name(table->name) {}

SubnetPlugin::~SubnetPlugin() = default;

Result<std::shared_ptr<SubnetPlugin>> SubnetPlugin::load(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return fail(ErrorCode::kNotFound, describe(file) + " does not exist");
  }
  // dlopen searches the library path for a bare name; a relative path must stay relative to the
  // working directory.
  return open(file, file.has_parent_path() ? file : std::filesystem::path(".") / file);
}

Result<std::shared_ptr<SubnetPlugin>> SubnetPlugin::loadCopy(const std::filesystem::path& file,
                                                             CopyFallback whenNotWritable) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return fail(ErrorCode::kNotFound, describe(file) + " does not exist");
  }
  // Next to the original first: a plugin that finds its files relative to its own location
  // (dladdr), like the python host's python/ folder, still finds them.
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  std::string pattern = (dir / ("." + file.filename().string() + ".reload-XXXXXX")).string();
  std::filesystem::path privateDir;  // the fallback: a fresh directory under $TMPDIR
  int fd = mkstemp(pattern.data());
  if (fd < 0 && whenNotWritable == CopyFallback::kOriginal) return load(file);
  if (fd < 0) {
    std::string tmp = (std::filesystem::temp_directory_path(ec) / "merit-plugin-XXXXXX").string();
    if (ec || mkdtemp(tmp.data()) == nullptr) {
      return fail(ErrorCode::kInternal, describe(file) + ": cannot make a private copy in " + dir.string() +
                                            " or under " + std::filesystem::temp_directory_path(ec).string());
    }
    privateDir = tmp;
    pattern = (privateDir / file.filename()).string();
  } else {
    ::close(fd);
  }
  const std::filesystem::path copy = pattern;
  Result<std::shared_ptr<SubnetPlugin>> loaded = fail(ErrorCode::kInternal, "");
  if (!std::filesystem::copy_file(file, copy, std::filesystem::copy_options::overwrite_existing, ec)) {
    loaded = fail(ErrorCode::kNotFound, describe(file) + " cannot be copied to " + copy.string() + ": " +
                                            (ec ? ec.message() : std::string("unknown error")));
  } else {
    loaded = open(file, copy);
  }
  // Mapped (or refused): the copy has done its job either way.
  std::filesystem::remove(copy, ec);
  if (!privateDir.empty()) std::filesystem::remove_all(privateDir, ec);
  return loaded;
}

Result<std::shared_ptr<SubnetPlugin>> SubnetPlugin::open(const std::filesystem::path& file,
                                                         const std::filesystem::path& openPath) {
  MERIT_TRY(checkElfComplete(openPath, describe(file)));
  dlerror();
  std::unique_ptr<void, LibraryCloser> library(dlopen(openPath.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!library) {
    const char* why = dlerror();
    return fail(ErrorCode::kInvalidArgument,
                describe(file) + " cannot be loaded: " + (why != nullptr ? why : "unknown dlopen error"));
  }
  dlerror();
  void* symbol = dlsym(library.get(), MERIT_SUBNET_PLUGIN_SYMBOL);
  if (symbol == nullptr) {
    return fail(ErrorCode::kInvalidArgument, describe(file) +
                                                 " is not a meritnet subnet plugin: it does not export " +
                                                 MERIT_SUBNET_PLUGIN_SYMBOL);
  }
  // POSIX guarantees that a function's address survives the round trip through void*.
  MeritSubnetPluginEntryV1 entry;
  static_assert(sizeof(entry) == sizeof(symbol));
  std::memcpy(&entry, &symbol, sizeof(entry));
  const MeritSubnetPluginV1* table = entry();
  if (table == nullptr) {
    return fail(ErrorCode::kInvalidArgument,
                describe(file) + ": " + MERIT_SUBNET_PLUGIN_SYMBOL + " returned NULL");
  }
  // Read the header fields first: they are the same in every version of the table.
  if (table->abi_major != MERIT_SUBNET_ABI_MAJOR) {
    return fail(
        ErrorCode::kInvalidArgument,
        fmt::format("{} was built for subnet ABI {}.{}, this host speaks ABI {}.x (rebuild the plugin "
                    "against this meritnet's merit/subnet_abi.h)",
                    describe(file), table->abi_major, table->abi_minor, MERIT_SUBNET_ABI_MAJOR));
  }
  if (table->struct_size < MERIT_SUBNET_PLUGIN_V1_0_SIZE) {
    return fail(
        ErrorCode::kInvalidArgument,
        fmt::format("{}: its function table is {} bytes, smaller than the {} bytes of ABI {}.0 (a corrupt "
                    "or hand-made table)",
                    describe(file), table->struct_size, MERIT_SUBNET_PLUGIN_V1_0_SIZE,
                    MERIT_SUBNET_ABI_MAJOR));
  }
  const char* missing = table->create == nullptr           ? "create"
                        : table->destroy == nullptr        ? "destroy"
                        : table->handle_batch == nullptr   ? "handle_batch"
                        : table->make_challenge == nullptr ? "make_challenge"
                        : table->score_response == nullptr ? "score_response"
                        : table->last_error == nullptr     ? "last_error"
                        : table->free_buffer == nullptr    ? "free_buffer"
                                                           : nullptr;
  if (missing != nullptr) {
    return fail(ErrorCode::kInvalidArgument, describe(file) + ": its function table has no " + missing);
  }
  if (table->name == nullptr || !isValidSubnetName(std::string_view(table->name, strnlen(table->name, 65)))) {
    return fail(ErrorCode::kInvalidArgument,
                describe(file) + ": its name is not 1-64 characters of a-z, 0-9 and _");
  }
  return std::shared_ptr<SubnetPlugin>(new SubnetPlugin(file, std::move(library), table));
}

Result<std::shared_ptr<SubnetPlugin>> SubnetPlugin::find(std::string_view nameOrPath,
                                                         std::span<const std::string> explicitDirs) {
  MERIT_ASSIGN_OR_RETURN(auto file, findSubnetPlugin(nameOrPath, explicitDirs));
  MERIT_ASSIGN_OR_RETURN(auto plugin, load(file));
  if (isValidSubnetName(nameOrPath) && plugin->name() != nameOrPath) {
    return fail(ErrorCode::kInvalidArgument, describe(file) + " calls itself '" + plugin->name() +
                                                 "', not '" + std::string(nameOrPath) + "'");
  }
  return plugin;
}

Result<std::unique_ptr<SubnetInstance>> SubnetPlugin::create(Role role, std::string_view configYaml) {
  MeritSubnetInstance* handle = nullptr;
  const MeritSubnetStatus status =
      m_table->create(reinterpret_cast<const std::uint8_t*>(configYaml.data()), configYaml.size(),
                      static_cast<MeritSubnetRole>(role), &handle);
  if (status != MERIT_SUBNET_OK || handle == nullptr) {
    const std::string why =
        status != MERIT_SUBNET_OK ? lastPluginError(*m_table) : "create returned no instance";
    return fail(toErrorCode(status == MERIT_SUBNET_OK ? MERIT_SUBNET_INTERNAL : status),
                fmt::format("subnet plugin '{}' refused to create a {}: {}", m_name,
                            role == Role::kMiner ? "miner" : "validator", why));
  }
  return std::unique_ptr<SubnetInstance>(new SubnetInstance(shared_from_this(), handle, role));
}

SubnetInstance::SubnetInstance(std::shared_ptr<SubnetPlugin> plugin, MeritSubnetInstance* handle, Role role)
    : m_plugin(std::move(plugin)),
      m_table(&m_plugin->table()),
      m_handle(handle),
      m_role(role),
      m_serial((m_table->flags & MERIT_SUBNET_FLAG_SERIAL) != 0) {}

SubnetInstance::~SubnetInstance() {
  m_table->destroy(m_handle);
}

std::unique_lock<std::mutex> SubnetInstance::lockIfSerial() {
  return m_serial ? std::unique_lock<std::mutex>(m_serialMutex) : std::unique_lock<std::mutex>();
}

Error SubnetInstance::pluginError(MeritSubnetStatus status, std::string_view function) const {
  return Error(toErrorCode(status),
               fmt::format("subnet plugin '{}' {} failed ({}): {}", m_plugin->name(), function,
                           requestStatusName(toRequestStatus(status)), lastPluginError(*m_table)));
}

Bytes SubnetInstance::takeBuffer(MeritSubnetBuffer& buffer) const {
  Bytes out;
  if (buffer.data != nullptr) {
    const auto* begin = reinterpret_cast<const std::byte*>(buffer.data);
    out.assign(begin, begin + buffer.size);
    m_table->free_buffer(buffer.data, buffer.size);
  }
  buffer = MeritSubnetBuffer{nullptr, 0};
  return out;
}

Result<std::vector<HandledRequest>> SubnetInstance::handleBatch(std::span<const ByteView> requests) {
  std::vector<MeritSubnetBytes> in(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    in[i] = MeritSubnetBytes{reinterpret_cast<const std::uint8_t*>(requests[i].data()), requests[i].size()};
  }
  std::vector<MeritSubnetBuffer> out(requests.size(), MeritSubnetBuffer{nullptr, 0});
  std::vector<MeritSubnetStatus> statuses(requests.size(), MERIT_SUBNET_INTERNAL);
  MeritSubnetStatus status;
  Error failure(ErrorCode::kInternal, "");
  {
    auto lock = lockIfSerial();
    status = m_table->handle_batch(m_handle, in.data(), in.size(), out.data(), statuses.data());
    if (status != MERIT_SUBNET_OK) failure = pluginError(status, "handle_batch");  // same thread: read now
  }
  std::vector<HandledRequest> replies(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    // Release every buffer, even from a failed batch that should have left them empty.
    Bytes bytes = takeBuffer(out[i]);
    replies[i].status = toRequestStatus(statuses[i]);
    if (replies[i].status == RequestStatus::kOk) {
      replies[i].body = std::move(bytes);
    } else {
      replies[i].message.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
  }
  if (status != MERIT_SUBNET_OK) return fail(std::move(failure));
  return replies;
}

Result<Challenge> SubnetInstance::makeChallenge() {
  MeritSubnetBuffer request{nullptr, 0};
  MeritSubnetBuffer expectation{nullptr, 0};
  MeritSubnetStatus status;
  Error failure(ErrorCode::kInternal, "");
  {
    auto lock = lockIfSerial();
    status = m_table->make_challenge(m_handle, &request, &expectation);
    if (status != MERIT_SUBNET_OK) failure = pluginError(status, "make_challenge");
  }
  Challenge challenge{takeBuffer(request), takeBuffer(expectation)};
  if (status != MERIT_SUBNET_OK) return fail(std::move(failure));
  return challenge;
}

Result<double> SubnetInstance::scoreResponse(ByteView expectation, ByteView response) {
  double quality = -1.0;
  MeritSubnetStatus status;
  {
    auto lock = lockIfSerial();
    status = m_table->score_response(
        m_handle,
        MeritSubnetBytes{reinterpret_cast<const std::uint8_t*>(expectation.data()), expectation.size()},
        MeritSubnetBytes{reinterpret_cast<const std::uint8_t*>(response.data()), response.size()}, &quality);
    if (status != MERIT_SUBNET_OK) return fail(pluginError(status, "score_response"));
  }
  if (!(quality >= 0.0 && quality <= 1.0)) {
    return fail(ErrorCode::kInternal,
                fmt::format("subnet plugin '{}' score_response returned quality {}, outside [0, 1]",
                            m_plugin->name(), quality));
  }
  return quality;
}

}  // namespace merit::subnet
