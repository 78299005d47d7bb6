#include "merit/util/file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace merit {

namespace fs = std::filesystem;

namespace {

Error ioError(const std::string& what, const fs::path& path, int err) {
  return Error(ErrorCode::kUnavailable, what + " " + path.string() + ": " + std::strerror(err));
}

Result<void> writeAll(int fd, ByteView data, const fs::path& path) {
  const std::byte* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ioError("cannot write", path, errno));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

Result<void> writeFileAtomic(const fs::path& path, ByteView data, mode_t mode, bool overwrite) {
  std::error_code ec;
  if (!overwrite && fs::exists(path, ec)) {
    return fail(ErrorCode::kAlreadyExists, path.string() + " already exists");
  }
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return fail(ioError("cannot create", tmp, errno));
  // open() applies the umask; make the mode exact.
  ::fchmod(fd, mode);
  auto written = writeAll(fd, data, tmp);
  if (written && ::fsync(fd) != 0) written = fail(ioError("cannot fsync", tmp, errno));
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (!overwrite) {
    // link() fails if the target appeared meanwhile, so we never clobber a concurrent creation.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      if (err == EEXIST) return fail(ErrorCode::kAlreadyExists, path.string() + " already exists");
      return fail(ioError("cannot create", path, err));
    }
    ::unlink(tmp.c_str());
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fail(ioError("cannot replace", path, err));
  }
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Result<std::string> readFile(const fs::path& path, std::size_t maxBytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return fail(ErrorCode::kNotFound, path.string() + " does not exist");
    return fail(ioError("cannot open", path, err));
  }
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return fail(ioError("cannot read", path, err));
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > maxBytes) {
      ::close(fd);
      return fail(ErrorCode::kInvalidArgument,
                  path.string() + " is larger than the limit of " + std::to_string(maxBytes) + " bytes");
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

Result<void> createDirectories(const fs::path& dir, mode_t mode) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return fail(ErrorCode::kUnavailable, "cannot create directory " + dir.string() + ": " + ec.message());
  if (::chmod(dir.c_str(), mode) != 0) return fail(ioError("cannot set permissions of", dir, errno));
  return {};
}

}  // namespace merit
