#include "merit/explain/explain.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "merit/consensus/fixed.h"
#include "merit/consensus_json/epoch_json.h"
#include "merit/consensus_spec/epoch.h"
#include "merit/rpc_json/call.h"

namespace merit::explain {

namespace {

using consensus::I32F32;
using nlohmann::json;

// Display only: the exact fixed-point value as a double (I32F32 has 32 fraction bits, and every
// epoch quantity is within [0, 1], so the conversion is exact).
double toDouble(I32F32 v) {
  return static_cast<double>(v.bits()) / 4294967296.0;
}

double u16Share(std::uint16_t v) {
  return static_cast<double>(v) / 65535.0;
}

std::string fixed4(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

std::string merit(std::uint64_t rao) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%llu.%09llu MERIT", static_cast<unsigned long long>(rao / 1'000'000'000),
                static_cast<unsigned long long>(rao % 1'000'000'000));
  return buf;
}

std::string ordinal(std::uint32_t n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

std::string shortKey(const std::string& hotkey) {
  return hotkey.size() > 11 ? hotkey.substr(0, 8) + "..." : hotkey;
}

std::string hotkeyOf(const EpochRecord& r, std::size_t uid) {
  return uid < r.hotkeys.size() ? r.hotkeys[uid] : std::string();
}

// The value of column `col` in a sparse row (zero when absent).
I32F32 entry(const consensus::SparseRow& row, std::uint16_t col) {
  for (const auto& e : row)
    if (e.col == col) return e.value;
  return I32F32::zero();
}

template <typename T>
std::string str(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else {
    return std::to_string(v);
  }
}

template <typename V>
void compareVector(const char* name, const V& stored, const V& recomputed, std::vector<Mismatch>& out,
                   std::size_t limit) {
  if (stored.size() != recomputed.size()) {
    if (out.size() < limit)
      out.push_back({std::string(name) + ".length", str(stored.size()), str(recomputed.size())});
    return;
  }
  for (std::size_t i = 0; i < stored.size() && out.size() < limit; ++i) {
    if (stored[i] != recomputed[i]) {
      out.push_back({std::string(name) + "[" + std::to_string(i) + "]",
                     str(static_cast<decltype(+stored[i])>(stored[i])),
                     str(static_cast<decltype(+recomputed[i])>(recomputed[i]))});
    }
  }
}

std::string rowString(const std::vector<consensus::UidValue>& row) {
  std::string s = "[";
  for (std::size_t k = 0; k < row.size(); ++k) {
    if (k) s += ",";
    s += "[" + std::to_string(row[k].uid) + "," + std::to_string(row[k].value) + "]";
  }
  return s + "]";
}

}  // namespace

Result<EpochRecord> parseEpochRecord(const json& j) {
  if (!j.is_object()) return fail(ErrorCode::kInvalidArgument, "epoch: expected an object");
  EpochRecord r;
  try {
    r.netuid = j.at("netuid").get<std::uint16_t>();
    r.block = j.at("block").get<std::uint64_t>();
    r.hotkeys = j.at("hotkeys").get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    return fail(ErrorCode::kInvalidArgument, std::string("epoch: ") + e.what());
  }
  auto in = j.find("input");
  auto out = j.find("output");
  if (in == j.end() || out == j.end())
    return fail(ErrorCode::kInvalidArgument, "epoch: input or output missing");
  MERIT_ASSIGN_OR_RETURN(r.input, consensus::parseEpochInputJson(*in));
  MERIT_ASSIGN_OR_RETURN(r.output, consensus::parseEpochOutputJson(*out));
  const std::size_t n = r.input.neurons.size();
  if (r.output.active.size() != n || r.hotkeys.size() != n) {
    return fail(ErrorCode::kInvalidArgument, "epoch: input has " + std::to_string(n) + " neurons, output " +
                                                 std::to_string(r.output.active.size()) + ", hotkeys " +
                                                 std::to_string(r.hotkeys.size()));
  }
  return r;
}

Result<EpochRecord> fetchEpoch(rpc::ChainClient& client, std::uint16_t netuid,
                               std::optional<std::uint64_t> block) {
  json params = {{"netuid", netuid}};
  if (block) params["block"] = *block;
  MERIT_ASSIGN_OR_RETURN(json result, rpc_json::call(client, "epoch_get", params));
  return parseEpochRecord(result);
}

std::vector<Mismatch> compareOutputs(const consensus::EpochOutput& a, const consensus::EpochOutput& b,
                                     std::size_t limit) {
  std::vector<Mismatch> out;
  compareVector("active", a.active, b.active, out, limit);
  compareVector("stake_weight", a.stakeWeight, b.stakeWeight, out, limit);
  compareVector("consensus", a.consensus, b.consensus, out, limit);
  compareVector("incentive", a.incentive, b.incentive, out, limit);
  compareVector("dividends", a.dividends, b.dividends, out, limit);
  compareVector("validator_trust", a.validatorTrust, b.validatorTrust, out, limit);
  compareVector("emission", a.emission, b.emission, out, limit);
  compareVector("server_emission", a.serverEmission, b.serverEmission, out, limit);
  compareVector("validator_emission", a.validatorEmission, b.validatorEmission, out, limit);
  compareVector("validator_permit", a.validatorPermit, b.validatorPermit, out, limit);
  if (a.bonds.size() != b.bonds.size()) {
    if (out.size() < limit) out.push_back({"bonds.length", str(a.bonds.size()), str(b.bonds.size())});
  } else {
    for (std::size_t i = 0; i < a.bonds.size() && out.size() < limit; ++i) {
      if (a.bonds[i] != b.bonds[i])
        out.push_back({"bonds[" + std::to_string(i) + "]", rowString(a.bonds[i]), rowString(b.bonds[i])});
    }
  }
  return out;
}

Result<Explanation> explainRecord(const EpochRecord& record, std::uint16_t uid) {
  const auto& in = record.input;
  const auto& stored = record.output;
  const std::size_t n = in.neurons.size();
  if (uid >= n) {
    return fail(ErrorCode::kNotFound, "uid " + std::to_string(uid) + " is not in the epoch of block " +
                                          std::to_string(record.block) + " (n = " + std::to_string(n) + ")");
  }
  if (stored.active.size() != n) {
    return fail(ErrorCode::kInvalidArgument, "stored output has " + std::to_string(stored.active.size()) +
                                                 " entries, the input " + std::to_string(n));
  }
  Explanation e;
  e.netuid = record.netuid;
  e.uid = uid;
  e.hotkey = hotkeyOf(record, uid);
  e.block = record.block;
  e.raoEmission = in.raoEmission;
  e.active = stored.active[uid];
  e.stake = in.neurons[uid].stake;
  e.emission = stored.emission[uid];

  // The check that matters: the chain's own fast epoch on the stored input gives the stored
  // output, bit for bit.
  MERIT_ASSIGN_OR_RETURN(consensus::EpochOutput fast, consensus::runEpoch(in));
  e.mismatches = compareOutputs(stored, fast);
  // The intermediates come from the executable spec; it must agree too, or they mean nothing.
  MERIT_ASSIGN_OR_RETURN(consensus_spec::EpochTrace t, consensus_spec::specEpochTrace(in));
  for (auto& m : compareOutputs(stored, t.output, 10)) {
    m.field = "spec:" + m.field;
    e.mismatches.push_back(std::move(m));
  }
  e.verified = e.mismatches.empty();

  // ---- as a miner: column `uid` of W and Wc ----
  bool weighted = false;
  for (std::size_t i = 0; i < n && !weighted; ++i) weighted = entry(t.weights[i], uid) != I32F32::zero();
  if (weighted || stored.incentive[uid] > 0 || stored.consensus[uid] > 0) {
    MinerExplanation m;
    m.consensus = toDouble(t.consensus[uid]);
    m.consensusU16 = stored.consensus[uid];
    m.rank = toDouble(t.rank[uid]);
    m.incentive = stored.incentive[uid];
    m.serverEmission = stored.serverEmission[uid];
    for (std::size_t i = 0; i < n; ++i) {
      I32F32 w = entry(t.weights[i], uid);
      if (w == I32F32::zero()) continue;
      WeightOnMiner v;
      v.validator = static_cast<std::uint16_t>(i);
      v.hotkey = hotkeyOf(record, i);
      v.stake = in.neurons[i].stake;
      v.activeStake = toDouble(t.activeStake[i]);
      for (const auto& raw : in.neurons[i].weights)
        if (raw.uid == uid) v.rawWeight = raw.value;
      v.weight = toDouble(w);
      v.clippedWeight = toDouble(entry(t.clipped[i], uid));
      v.clippedAway = v.weight - v.clippedWeight;
      m.clippedAway += v.activeStake * v.clippedAway;
      m.weights.push_back(std::move(v));
    }
    // Miners: every uid that received weight or incentive. Rank by stored incentive.
    for (std::size_t j = 0; j < n; ++j) {
      bool got = stored.incentive[j] > 0;
      for (std::size_t i = 0; i < n && !got; ++i)
        got = entry(t.weights[i], static_cast<std::uint16_t>(j)) != I32F32::zero();
      if (!got) continue;
      ++m.miners;
      if (stored.incentive[j] > stored.incentive[uid]) ++m.rankAmongMiners;
    }
    ++m.rankAmongMiners;
    e.miner = std::move(m);
  }

  // ---- as a validator: row `uid` ----
  if (t.permit[uid] || !in.neurons[uid].weights.empty()) {
    ValidatorExplanation v;
    v.permit = t.permit[uid];
    v.newPermit = stored.validatorPermit[uid];
    v.activeStake = toDouble(t.activeStake[uid]);
    v.validatorTrust = stored.validatorTrust[uid];
    v.dividends = stored.dividends[uid];
    v.validatorEmission = stored.validatorEmission[uid];
    double total = 0, kept = 0;
    for (const auto& w : t.weights[uid]) {
      WeightVsConsensus x;
      x.miner = w.col;
      x.hotkey = hotkeyOf(record, w.col);
      x.weight = toDouble(w.value);
      x.consensus = toDouble(t.consensus[w.col]);
      x.clippedAway = x.weight - toDouble(entry(t.clipped[uid], w.col));
      x.incentive = stored.incentive[w.col];
      total += x.weight;
      kept += x.weight - x.clippedAway;
      v.weights.push_back(std::move(x));
    }
    std::sort(v.weights.begin(), v.weights.end(),
              [](const auto& a, const auto& b) { return a.miner < b.miner; });
    v.weightClipped = total > 0 ? (total - kept) / total : 0;
    std::map<std::uint16_t, BondMove> bonds;
    for (const auto& b : in.neurons[uid].bonds) bonds[b.uid] = {b.uid, b.value, 0};
    for (const auto& b : stored.bonds[uid]) {
      auto& m = bonds[b.uid];
      m.miner = b.uid;
      m.after = b.value;
    }
    for (const auto& [miner, move] : bonds) v.bonds.push_back(move);
    std::vector<std::uint16_t> trusts;
    for (std::size_t i = 0; i < n; ++i)
      if (t.permit[i] && !t.weights[i].empty() && t.activeStake[i] != I32F32::zero())
        trusts.push_back(stored.validatorTrust[i]);
    if (!trusts.empty()) {
      std::sort(trusts.begin(), trusts.end());
      v.medianValidatorTrust = u16Share(trusts[trusts.size() / 2]);
    }
    // What would have raised its dividends.
    if (!v.permit) {
      v.advice.push_back(
          "it had no validator permit this epoch, so its weights were ignored: permits go to the "
          "top " +
          std::to_string(in.hyperparameters.maxAllowedValidators) +
          " stakes (it has one for the next epoch: " + (v.newPermit ? "yes" : "no") + ")");
    } else if (!e.active) {
      v.advice.push_back("it was inactive (last update at block " +
                         std::to_string(in.neurons[uid].lastUpdate) + ", activity cutoff " +
                         std::to_string(in.hyperparameters.activityCutoff) +
                         " blocks): its stake did not count; set weights more often");
    }
    // Clipping below what four decimals show (0.0000) is rounding between the u16 weights and
    // the consensus, not advice worth giving.
    constexpr double kNegligible = 0.00005;
    std::vector<WeightVsConsensus> above;
    bool roundingOnly = false;
    for (const auto& x : v.weights) {
      if (x.clippedAway >= kNegligible)
        above.push_back(x);
      else if (x.clippedAway > 0)
        roundingOnly = true;
    }
    std::sort(above.begin(), above.end(),
              [](const auto& a, const auto& b) { return a.clippedAway > b.clippedAway; });
    for (const auto& x : above) {
      v.advice.push_back("uid " + std::to_string(x.miner) + ": weight " + fixed4(x.weight) +
                         " is above its consensus " + fixed4(x.consensus) + "; " + fixed4(x.clippedAway) +
                         " of the weight was clipped away and earned no trust or bonds. Weight that "
                         "agrees with the other validators' stake-weighted median would have counted.");
    }
    if (above.empty() && v.permit && e.active && total > 0) {
      v.advice.push_back(
          std::string("none of its weight was clipped") +
          (roundingOnly ? " beyond rounding (under 0.0001)" : "") +
          ": dividends then grow only through bonds, which follow "
          "its weights by an exponential moving average (bonds_moving_average " +
          std::to_string(in.hyperparameters.bondsMovingAverage) +
          " per million), so weighting the miners that earn incentive early and steadily raises them");
    }
    if (v.permit && e.active && total == 0) {
      v.advice.push_back(
          "it held a permit but no weight counted (none set, or all on uids registered since its "
          "last update): set weights on the miners");
    }
    e.validator = std::move(v);
  }

  // Summary.
  std::string who = "uid " + std::to_string(uid);
  if (e.miner && e.validator) {
    e.summary.push_back(who + " is a miner and a validator in this epoch.");
  } else if (e.miner) {
    e.summary.push_back(who + " is a miner in this epoch.");
  } else if (e.validator) {
    e.summary.push_back(who + " is a validator in this epoch.");
  } else {
    e.summary.push_back(
        who + " received no weight and held no permit in this epoch: it earned " +
        (e.emission > 0 ? std::string("only by stake (no valid weights at all)") : "nothing") + ".");
  }
  if (e.miner) {
    const auto& m = *e.miner;
    std::string s = "As a miner it got incentive " + fixed4(u16Share(m.incentive)) + " (" +
                    ordinal(m.rankAmongMiners) + " of " + std::to_string(m.miners) + " miners), " +
                    merit(m.serverEmission);
    if (m.clippedAway > 0) {
      s += "; " + fixed4(m.clippedAway) + " of stake-weighted weight was clipped to consensus " +
           fixed4(m.consensus);
    }
    e.summary.push_back(s + ".");
  }
  if (e.validator) {
    const auto& v = *e.validator;
    e.summary.push_back("As a validator it kept validator trust " + fixed4(u16Share(v.validatorTrust)) +
                        " (" + fixed4(v.weightClipped) + " of its weight clipped; median of validators " +
                        fixed4(v.medianValidatorTrust) + ") and got dividends " +
                        fixed4(u16Share(v.dividends)) + ", " + merit(v.validatorEmission) + ".");
  }
  return e;
}

Result<Explanation> explainUid(rpc::ChainClient& client, std::uint16_t netuid, std::uint16_t uid,
                               std::optional<std::uint64_t> block) {
  MERIT_ASSIGN_OR_RETURN(EpochRecord record, fetchEpoch(client, netuid, block));
  return explainRecord(record, uid);
}

nlohmann::ordered_json explanationJson(const Explanation& e) {
  using oj = nlohmann::ordered_json;
  oj j;
  j["netuid"] = e.netuid;
  j["uid"] = e.uid;
  j["hotkey"] = e.hotkey;
  j["block"] = e.block;
  j["rao_emission"] = e.raoEmission;
  j["verified"] = e.verified;
  oj mism = oj::array();
  for (const auto& m : e.mismatches)
    mism.push_back({{"field", m.field}, {"stored", m.stored}, {"recomputed", m.recomputed}});
  j["mismatches"] = std::move(mism);
  j["active"] = e.active;
  j["stake"] = e.stake;
  j["emission"] = e.emission;
  j["summary"] = e.summary;
  if (e.miner) {
    const auto& m = *e.miner;
    oj w = oj::array();
    for (const auto& v : m.weights) {
      oj o;
      o["validator"] = v.validator;
      o["hotkey"] = v.hotkey;
      o["stake"] = v.stake;
      o["active_stake"] = v.activeStake;
      o["raw_weight"] = v.rawWeight;
      o["weight"] = v.weight;
      o["clipped_weight"] = v.clippedWeight;
      o["clipped_away"] = v.clippedAway;
      w.push_back(std::move(o));
    }
    oj o;
    o["weights"] = std::move(w);
    o["consensus"] = m.consensus;
    o["consensus_u16"] = m.consensusU16;
    o["clipped_away"] = m.clippedAway;
    o["rank"] = m.rank;
    o["rank_among_miners"] = m.rankAmongMiners;
    o["miners"] = m.miners;
    o["incentive"] = m.incentive;
    o["server_emission"] = m.serverEmission;
    j["miner"] = std::move(o);
  } else {
    j["miner"] = nullptr;
  }
  if (e.validator) {
    const auto& v = *e.validator;
    oj w = oj::array();
    for (const auto& x : v.weights) {
      oj o;
      o["miner"] = x.miner;
      o["hotkey"] = x.hotkey;
      o["weight"] = x.weight;
      o["consensus"] = x.consensus;
      o["clipped_away"] = x.clippedAway;
      o["incentive"] = x.incentive;
      w.push_back(std::move(o));
    }
    oj b = oj::array();
    for (const auto& x : v.bonds) b.push_back({{"miner", x.miner}, {"before", x.before}, {"after", x.after}});
    oj o;
    o["permit"] = v.permit;
    o["new_permit"] = v.newPermit;
    o["active_stake"] = v.activeStake;
    o["weight_clipped"] = v.weightClipped;
    o["validator_trust"] = v.validatorTrust;
    o["median_validator_trust"] = v.medianValidatorTrust;
    o["weights"] = std::move(w);
    o["bonds"] = std::move(b);
    o["dividends"] = v.dividends;
    o["validator_emission"] = v.validatorEmission;
    o["advice"] = v.advice;
    j["validator"] = std::move(o);
  } else {
    j["validator"] = nullptr;
  }
  return j;
}

std::string explanationText(const Explanation& e) {
  std::ostringstream o;
  o << "subnet " << e.netuid << ", uid " << e.uid << " (" << e.hotkey << "), epoch of block " << e.block
    << ": it distributed " << merit(e.raoEmission) << "\n";
  if (e.verified) {
    o << "check: recomputed with merit_consensus from the stored inputs; equal to the stored outputs, bit "
         "for bit\n";
  } else {
    o << "check FAILED: the recomputed epoch differs from what the chain stored:\n";
    for (const auto& m : e.mismatches)
      o << "  " << m.field << ": stored " << m.stored << ", recomputed " << m.recomputed << "\n";
  }
  o << (e.active ? "active" : "inactive") << ", stake " << merit(e.stake) << ", emission "
    << merit(e.emission) << "\n";
  for (const auto& s : e.summary) o << s << "\n";
  if (e.miner) {
    const auto& m = *e.miner;
    o << "\nas a miner:\n";
    o << "  validator weights on uid " << e.uid
      << " (each row normalised to 1; consensus is their stake-weighted median):\n";
    o << "    validator  hotkey      stake share  weight   counted  clipped\n";
    for (const auto& v : m.weights) {
      char line[160];
      std::snprintf(line, sizeof line, "    uid %-6u %-11s %-12s %-8s %-8s %s\n", v.validator,
                    shortKey(v.hotkey).c_str(), fixed4(v.activeStake).c_str(), fixed4(v.weight).c_str(),
                    fixed4(v.clippedWeight).c_str(), fixed4(v.clippedAway).c_str());
      o << line;
    }
    if (m.weights.empty()) o << "    (no validator weighted it)\n";
    o << "  consensus " << fixed4(m.consensus) << " (" << m.consensusU16 << "/65535)";
    std::vector<std::string> by;
    for (const auto& v : m.weights)
      if (v.clippedAway > 0)
        by.push_back("uid " + std::to_string(v.validator) + " (" + fixed4(v.clippedAway) + ")");
    if (by.empty()) {
      o << "; no weight was clipped\n";
    } else {
      o << "; clipped away: " << fixed4(m.clippedAway) << " of stake-weighted weight, by ";
      for (std::size_t k = 0; k < by.size(); ++k) o << (k ? ", " : "") << by[k];
      o << "\n";
    }
    o << "  rank " << fixed4(m.rank) << " (stake-weighted sum of the counted weights) -> incentive "
      << fixed4(u16Share(m.incentive)) << " (" << m.incentive << "/65535), " << ordinal(m.rankAmongMiners)
      << " of " << m.miners << " miners; paid " << merit(m.serverEmission) << " as incentive\n";
  }
  if (e.validator) {
    const auto& v = *e.validator;
    o << "\nas a validator:\n";
    o << "  permit " << (v.permit ? "yes" : "no") << " (next epoch: " << (v.newPermit ? "yes" : "no")
      << "), active stake share " << fixed4(v.activeStake) << "\n";
    o << "  weights against consensus:\n";
    o << "    miner      hotkey      weight   consensus  clipped  incentive\n";
    for (const auto& x : v.weights) {
      char line[160];
      std::snprintf(line, sizeof line, "    uid %-6u %-11s %-8s %-10s %-8s %s\n", x.miner,
                    shortKey(x.hotkey).c_str(), fixed4(x.weight).c_str(), fixed4(x.consensus).c_str(),
                    fixed4(x.clippedAway).c_str(), fixed4(u16Share(x.incentive)).c_str());
      o << line;
    }
    if (v.weights.empty()) o << "    (no weights counted)\n";
    o << "  " << fixed4(v.weightClipped) << " of its weight was clipped -> validator trust "
      << fixed4(u16Share(v.validatorTrust)) << " (" << v.validatorTrust << "/65535; median of validators "
      << fixed4(v.medianValidatorTrust) << ")\n";
    o << "  bonds (u16, before -> after this epoch):";
    if (v.bonds.empty()) o << " none";
    o << "\n";
    for (const auto& b : v.bonds) {
      o << "    uid " << b.miner << ": " << b.before << " -> " << b.after;
      if (b.after > b.before) o << " (+" << (b.after - b.before) << ")";
      if (b.after < b.before) o << " (-" << (b.before - b.after) << ")";
      o << "\n";
    }
    o << "  dividends " << fixed4(u16Share(v.dividends)) << " (" << v.dividends << "/65535), paid "
      << merit(v.validatorEmission) << "\n";
    if (!v.advice.empty()) {
      o << "  what would have raised them:\n";
      for (const auto& a : v.advice) o << "    - " << a << "\n";
    }
  }
  return o.str();
}

}  // namespace merit::explain
