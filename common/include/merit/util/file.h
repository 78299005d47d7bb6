// Small file-system helpers with the durability and limits meritnet needs.
//
// Thread-safety: free functions; concurrent writers to the same path race as with any files.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <sys/types.h>

#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit {

// Writes `data` to `path` so that a crash leaves either the old file or the new one, never a
// torn mix: write a temporary file beside it (created with `mode`), fsync it, rename it over
// `path`, fsync the directory. With `overwrite` false an existing `path` is kAlreadyExists.
Result<void> writeFileAtomic(const std::filesystem::path& path, ByteView data, mode_t mode,
                             bool overwrite = true);

// Reads a whole file of at most `maxBytes` (larger is kInvalidArgument: we never read unbounded
// input). Missing is kNotFound.
Result<std::string> readFile(const std::filesystem::path& path, std::size_t maxBytes);

// Creates `dir` and missing parents, then sets `dir` itself to `mode` (umask does not apply).
Result<void> createDirectories(const std::filesystem::path& dir, mode_t mode);

}  // namespace merit
