#include "merit/validator/state.h"

#include <nlohmann/json.hpp>

#include "merit/util/file.h"

namespace merit::validator {

using nlohmann::json;

namespace {
constexpr int kVersion = 1;
constexpr std::size_t kMaxStateBytes = 64 * 1024 * 1024;
}  // namespace

Result<void> saveState(const std::string& path, const ValidatorState& s) {
  json scores = json::array();
  for (const auto& e : s.scores) {
    scores.push_back({{"hotkey", toHex(e.hotkey)}, {"score", e.score}, {"known", e.known}});
  }
  json commits = json::array();
  for (const auto& c : s.pendingCommits) {
    commits.push_back({{"commit_block", c.commitBlock},
                       {"uids", c.uids},
                       {"values", c.values},
                       {"salt", c.salt},
                       {"version_key", c.versionKey}});
  }
  json doc = {{"version", kVersion}, {"netuid", s.netuid},         {"hotkey", toHex(s.hotkey)},
              {"scores", scores},    {"pending_commits", commits}, {"last_weights_block", s.lastWeightsBlock},
              {"steps", s.steps}};
  return writeFileAtomic(path, asBytes(doc.dump()), 0600);
}

Result<ValidatorState> loadState(const std::string& path) {
  auto text = readFile(path, kMaxStateBytes);
  if (!text) return fail(text.error());
  auto corrupt = [&](const std::string& why) {
    return fail(ErrorCode::kCorruption, "validator state " + path + " is damaged: " + why);
  };
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return corrupt("not valid JSON");
  try {
    if (doc.at("version").get<int>() != kVersion) return corrupt("unsupported version");
    ValidatorState s;
    s.netuid = doc.at("netuid").get<std::uint16_t>();
    auto hk = fromHexFixed<32>(doc.at("hotkey").get<std::string>());
    if (!hk) return corrupt("bad hotkey");
    s.hotkey = *hk;
    for (const auto& e : doc.at("scores")) {
      ScoreBoard::Entry entry;
      auto h = fromHexFixed<32>(e.at("hotkey").get<std::string>());
      if (!h) return corrupt("bad score hotkey");
      entry.hotkey = *h;
      entry.score = e.at("score").get<double>();
      entry.known = e.at("known").get<bool>();
      if (!(entry.score >= 0 && entry.score <= 1)) return corrupt("score out of [0, 1]");
      s.scores.push_back(entry);
    }
    for (const auto& c : doc.at("pending_commits")) {
      PendingCommit p;
      p.commitBlock = c.at("commit_block").get<std::uint64_t>();
      p.uids = c.at("uids").get<std::vector<std::uint16_t>>();
      p.values = c.at("values").get<std::vector<std::uint16_t>>();
      p.salt = c.at("salt").get<std::vector<std::uint16_t>>();
      p.versionKey = c.at("version_key").get<std::uint64_t>();
      if (p.uids.size() != p.values.size()) return corrupt("commit with unequal uids and values");
      s.pendingCommits.push_back(std::move(p));
    }
    s.lastWeightsBlock = doc.at("last_weights_block").get<std::uint64_t>();
    s.steps = doc.at("steps").get<std::uint64_t>();
    return s;
  } catch (const json::exception& e) {
    return corrupt(e.what());
  }
}

}  // namespace merit::validator
