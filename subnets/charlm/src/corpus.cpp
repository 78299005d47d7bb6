#include "merit/charlm/corpus.h"

#include <algorithm>
#include <system_error>

#include "merit/util/file.h"

namespace merit::charlm {

namespace {

constexpr std::string_view kSeparator = "%\n";

std::string missingCorpusMessage(const std::filesystem::path& dir, std::string_view what) {
  std::string message = "charlm corpus " + dir.string() + ": " + std::string(what);
  if (dir == std::filesystem::path(kDefaultCorpusDir)) {
    message += "; install Debian's `fortunes` package (apt-get install fortunes, or scripts/install-deps)";
  } else {
    message += " (expected a directory of fortune files, as Debian's `fortunes` package installs in " +
               std::string(kDefaultCorpusDir) + ")";
  }
  return message;
}

bool isFortuneFileName(const std::string& name) {
  if (name.empty() || name.front() == '.') return false;
  return !name.ends_with(".dat") && !name.ends_with(".u8");
}

bool isBlank(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

}  // namespace

std::vector<std::string_view> splitFortunes(std::string_view fileText) {
  std::vector<std::string_view> fortunes;
  std::size_t start = 0;  // first byte of the current fortune
  std::size_t line = 0;   // first byte of the current line
  auto close = [&](std::size_t end) {
    std::string_view fortune = fileText.substr(start, end - start);
    if (!isBlank(fortune)) fortunes.push_back(fortune);
  };
  while (line < fileText.size()) {
    std::size_t newline = fileText.find('\n', line);
    const std::size_t lineEnd = newline == std::string_view::npos ? fileText.size() : newline;
    const std::size_t next = newline == std::string_view::npos ? fileText.size() : newline + 1;
    std::string_view text = fileText.substr(line, lineEnd - line);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text == "%") {
      close(line);
      start = next;
    }
    line = next;
  }
  close(fileText.size());
  return fortunes;
}

std::uint64_t fortuneHash(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a offset basis
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;  // FNV-1a prime
  }
  // SplitMix64 finaliser: spreads FNV's weak low bits before the modulus.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

bool isHeldOut(std::string_view fortune) {
  return fortuneHash(fortune) % kSplitModulus < kHeldOutBelow;
}

Result<Corpus> loadCorpus(const std::filesystem::path& dir, Split split) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return fail(ErrorCode::kNotFound, missingCorpusMessage(dir, "no such directory"));
  }
  std::vector<std::string> names;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return fail(ErrorCode::kUnavailable, "charlm corpus " + dir.string() + ": " + ec.message());
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return fail(ErrorCode::kUnavailable, "charlm corpus " + dir.string() + ": " + ec.message());
    const std::string name = it->path().filename().string();
    std::error_code typeError;
    if (isFortuneFileName(name) && it->is_regular_file(typeError)) names.push_back(name);
  }
  if (names.empty()) {
    return fail(ErrorCode::kNotFound, missingCorpusMessage(dir, "holds no fortune files"));
  }
  std::sort(names.begin(), names.end());

  Corpus corpus;
  corpus.files = names;
  std::size_t total = 0;
  for (const std::string& name : names) {
    const std::filesystem::path file = dir / name;
    auto text = readFile(file, kMaxCorpusBytes - total);
    if (!text) {
      if (text.error().code() == ErrorCode::kInvalidArgument) {
        return fail(ErrorCode::kInvalidArgument, "charlm corpus " + dir.string() + ": larger than " +
                                                     std::to_string(kMaxCorpusBytes >> 20) + " MiB");
      }
      return fail(text.error().withContext("charlm corpus"));
    }
    total += text->size();
    std::string lastLine;  // a final fortune without its newline, completed
    for (std::string_view fortune : splitFortunes(*text)) {
      if (fortune.back() != '\n') {
        lastLine = std::string(fortune) + '\n';
        fortune = lastLine;
      }
      const bool heldOut = split == Split::kAllHeldOut || isHeldOut(fortune);
      std::string& side = heldOut ? corpus.heldOut : corpus.train;
      side.append(fortune);
      side.append(kSeparator);
      ++(heldOut ? corpus.heldOutFortunes : corpus.trainFortunes);
    }
  }
  if (corpus.heldOutFortunes + corpus.trainFortunes == 0) {
    return fail(ErrorCode::kNotFound, missingCorpusMessage(dir, "its files hold no fortunes"));
  }
  return corpus;
}

}  // namespace merit::charlm
