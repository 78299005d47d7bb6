// The charlm text corpus: a directory of fortune files (by default Debian's `fortunes` package,
// /usr/share/games/fortunes), split per fortune into training text and held-out text. The
// charlm plugin's validators draw their challenges from the held-out text; `merit-train charlm`
// trains on the training text and reports bits per character on the held-out text, so both
// sides agree on the split without exchanging anything.
//
// Files: every regular file directly in the directory (subdirectories are not read, so the
// offensive `off/` collection and other languages' collections are skipped) whose name does not
// start with '.' and does not end in ".dat" (strfile indexes) or ".u8" (UTF-8 aliases of the same
// text), read in byte-wise name order. A file is a list of fortunes separated by lines holding
// only "%"; a fortune is the text between two separators (blank-only fortunes are dropped).
//
// Split: a fortune is held out when mix64(fnv1a64(text)) % 1000 < 100 (about 10%), with text the
// fortune's bytes up to and including its final newline, fnv1a64 the 64-bit FNV-1a hash and
// mix64 the SplitMix64 finaliser. The rule depends on the text alone, so it is deterministic,
// independent of file order, and a fortune that appears twice lands on the same side both times.
// Each side is the concatenation of its fortunes, each followed by the separator "%\n".
//
// Thread-safety: free functions over values; no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "merit/util/result.h"

namespace merit::charlm {

// Where Debian's `fortunes` package installs its fortune files.
inline constexpr std::string_view kDefaultCorpusDir = "/usr/share/games/fortunes";
// Refuse corpora larger than this (all files together): we never read unbounded input.
inline constexpr std::size_t kMaxCorpusBytes = std::size_t{256} << 20;
// Held out: fortunes whose mixed hash modulo kSplitModulus is below kHeldOutBelow (10%).
inline constexpr std::uint64_t kSplitModulus = 1000;
inline constexpr std::uint64_t kHeldOutBelow = 100;

enum class Split : unsigned char {
  kHashed,      // ~10% held out by the hash rule above (the default)
  kAllHeldOut,  // every fortune held out: for validators scoring on their own private text
};

struct Corpus {
  std::string train;    // training fortunes, each followed by "%\n"
  std::string heldOut;  // held-out fortunes, each followed by "%\n"
  std::size_t trainFortunes = 0;
  std::size_t heldOutFortunes = 0;
  std::vector<std::string> files;  // the file names read, in reading order
};

// The fortunes of one file's text, in order (views into `fileText`). Each ends with '\n' (the
// last one may lack it when the file does; loadCorpus adds it).
std::vector<std::string_view> splitFortunes(std::string_view fileText);

// 64-bit FNV-1a of `text` followed by the SplitMix64 finaliser.
std::uint64_t fortuneHash(std::string_view text);

// True if the fortune with this text belongs to the held-out side (kHashed split).
bool isHeldOut(std::string_view fortune);

// Reads and splits the corpus in `dir`. Errors: not_found when the directory is missing or holds
// no fortune file (the message names the `fortunes` Debian package), invalid_argument when it is
// larger than kMaxCorpusBytes, unavailable when a file cannot be read.
Result<Corpus> loadCorpus(const std::filesystem::path& dir, Split split = Split::kHashed);

}  // namespace merit::charlm
