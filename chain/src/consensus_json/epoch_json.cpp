#include "merit/consensus_json/epoch_json.h"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

namespace merit::consensus {

namespace {

using nlohmann::json;

tl::unexpected<Error> invalid(const std::string& path, const std::string& reason) {
  return fail(ErrorCode::kInvalidArgument, path + ": " + reason);
}

// Rejects nesting deeper than kMaxEpochJsonDepth before the recursive parser sees the text.
Result<void> checkDepth(std::string_view text) {
  std::size_t depth = 0;
  bool inString = false;
  bool escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxEpochJsonDepth) {
        return invalid("input", "nesting deeper than " + std::to_string(kMaxEpochJsonDepth) + " levels");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return {};
}

std::string typeName(const json& j) {
  if (j.is_number_float()) return "a fraction";
  if (j.is_number()) return "an integer";
  return j.type_name();
}

Result<const json*> field(const json& object, const char* key, const std::string& path) {
  auto it = object.find(key);
  if (it == object.end()) return invalid(path.empty() ? key : path + "." + key, "missing");
  return &*it;
}

Result<void> requireObject(const json& j, const std::string& path,
                           std::initializer_list<const char*> allowedKeys) {
  if (!j.is_object()) return invalid(path.empty() ? "input" : path, "expected an object, got " + typeName(j));
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const char* key : allowedKeys) known = known || it.key() == key;
    if (!known) return invalid(path.empty() ? it.key() : path + "." + it.key(), "unknown key");
  }
  return {};
}

Result<uint64_t> asUnsigned(const json& j, const std::string& path, uint64_t max) {
  if (!j.is_number_integer()) return invalid(path, "expected a non-negative integer, got " + typeName(j));
  if (j.is_number_unsigned()) {
    uint64_t v = j.get<uint64_t>();
    if (v > max) return invalid(path, std::to_string(v) + " > maximum " + std::to_string(max));
    return v;
  }
  int64_t v = j.get<int64_t>();
  if (v < 0) return invalid(path, std::to_string(v) + " is negative");
  if (static_cast<uint64_t>(v) > max)
    return invalid(path, std::to_string(v) + " > maximum " + std::to_string(max));
  return static_cast<uint64_t>(v);
}

Result<int64_t> asSigned(const json& j, const std::string& path, int64_t min, int64_t max) {
  if (!j.is_number_integer()) return invalid(path, "expected an integer, got " + typeName(j));
  if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(max)) {
    return invalid(path, std::to_string(j.get<uint64_t>()) + " > maximum " + std::to_string(max));
  }
  int64_t v = j.get<int64_t>();
  if (v < min || v > max) {
    return invalid(path,
                   std::to_string(v) + " outside [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return v;
}

Result<bool> asBool(const json& j, const std::string& path) {
  if (!j.is_boolean()) return invalid(path, "expected true or false, got " + typeName(j));
  return j.get<bool>();
}

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();

Result<uint64_t> u64Field(const json& obj, const char* key, const std::string& path, uint64_t max = kU64Max) {
  MERIT_ASSIGN_OR_RETURN(const json* j, field(obj, key, path));
  return asUnsigned(*j, path.empty() ? key : path + "." + key, max);
}

Result<bool> boolField(const json& obj, const char* key, const std::string& path) {
  MERIT_ASSIGN_OR_RETURN(const json* j, field(obj, key, path));
  return asBool(*j, path.empty() ? key : path + "." + key);
}

Result<std::optional<uint64_t>> nullableU64Field(const json& obj, const char* key, const std::string& path,
                                                 uint64_t max) {
  MERIT_ASSIGN_OR_RETURN(const json* j, field(obj, key, path));
  if (j->is_null()) return std::optional<uint64_t>();
  MERIT_ASSIGN_OR_RETURN(uint64_t v, asUnsigned(*j, path.empty() ? key : path + "." + key, max));
  return std::optional<uint64_t>(v);
}

// A row of [uid, value] pairs; uid range and duplicates are checked by validateEpochInput.
Result<std::vector<UidValue>> pairsOf(const json* j, const std::string& rowPath) {
  if (!j->is_array()) return invalid(rowPath, "expected an array of [uid, value] pairs, got " + typeName(*j));
  std::vector<UidValue> row;
  row.reserve(j->size());
  for (std::size_t k = 0; k < j->size(); ++k) {
    const json& pair = (*j)[k];
    const std::string pairPath = rowPath + "[" + std::to_string(k) + "]";
    if (!pair.is_array() || pair.size() != 2) return invalid(pairPath, "expected [uid, value]");
    MERIT_ASSIGN_OR_RETURN(uint64_t uid, asUnsigned(pair[0], pairPath + "[0]", 65535));
    MERIT_ASSIGN_OR_RETURN(uint64_t value, asUnsigned(pair[1], pairPath + "[1]", 65535));
    row.push_back({static_cast<uint16_t>(uid), static_cast<uint16_t>(value)});
  }
  return row;
}

Result<std::vector<UidValue>> pairsField(const json& obj, const char* key, const std::string& path) {
  MERIT_ASSIGN_OR_RETURN(const json* j, field(obj, key, path));
  return pairsOf(j, path + "." + key);
}

Result<Hyperparameters> parseHyperparameters(const json& root) {
  const std::string path = "hyperparameters";
  MERIT_ASSIGN_OR_RETURN(const json* hpJson, field(root, "hyperparameters", ""));
  const json& j = *hpJson;
  MERIT_TRY(requireObject(j, path,
                          {"kappa", "bonds_penalty", "bonds_moving_average", "yuma3", "liquid_alpha",
                           "alpha_low", "alpha_high", "alpha_sigmoid_steepness", "activity_cutoff",
                           "max_allowed_validators", "stake_threshold", "commit_reveal"}));
  Hyperparameters hp;
  MERIT_ASSIGN_OR_RETURN(uint64_t kappa, u64Field(j, "kappa", path, 65535));
  MERIT_ASSIGN_OR_RETURN(uint64_t penalty, u64Field(j, "bonds_penalty", path, 65535));
  MERIT_ASSIGN_OR_RETURN(hp.bondsMovingAverage,
                         u64Field(j, "bonds_moving_average", path, kBondsMovingAverageScale));
  MERIT_ASSIGN_OR_RETURN(hp.yuma3, boolField(j, "yuma3", path));
  MERIT_ASSIGN_OR_RETURN(hp.liquidAlpha, boolField(j, "liquid_alpha", path));
  MERIT_ASSIGN_OR_RETURN(uint64_t alphaLow, u64Field(j, "alpha_low", path, 65535));
  MERIT_ASSIGN_OR_RETURN(uint64_t alphaHigh, u64Field(j, "alpha_high", path, 65535));
  MERIT_ASSIGN_OR_RETURN(const json* steepness, field(j, "alpha_sigmoid_steepness", path));
  MERIT_ASSIGN_OR_RETURN(int64_t steep,
                         asSigned(*steepness, path + ".alpha_sigmoid_steepness",
                                  std::numeric_limits<int16_t>::min(), std::numeric_limits<int16_t>::max()));
  MERIT_ASSIGN_OR_RETURN(hp.activityCutoff, u64Field(j, "activity_cutoff", path));
  MERIT_ASSIGN_OR_RETURN(uint64_t maxValidators, u64Field(j, "max_allowed_validators", path, 65535));
  MERIT_ASSIGN_OR_RETURN(hp.stakeThreshold, u64Field(j, "stake_threshold", path));
  MERIT_ASSIGN_OR_RETURN(hp.commitReveal, boolField(j, "commit_reveal", path));
  hp.kappa = static_cast<uint16_t>(kappa);
  hp.bondsPenalty = static_cast<uint16_t>(penalty);
  hp.alphaLow = static_cast<uint16_t>(alphaLow);
  hp.alphaHigh = static_cast<uint16_t>(alphaHigh);
  hp.alphaSigmoidSteepness = static_cast<int16_t>(steep);
  hp.maxAllowedValidators = static_cast<uint16_t>(maxValidators);
  return hp;
}

Result<NeuronInput> parseNeuron(const json& j, const std::string& path) {
  MERIT_TRY(requireObject(j, path,
                          {"stake", "last_update", "block_at_registration", "validator_permit", "weights",
                           "bonds", "commit_block"}));
  NeuronInput neuron;
  MERIT_ASSIGN_OR_RETURN(neuron.stake, u64Field(j, "stake", path));
  MERIT_ASSIGN_OR_RETURN(neuron.lastUpdate, u64Field(j, "last_update", path));
  MERIT_ASSIGN_OR_RETURN(neuron.blockAtRegistration, u64Field(j, "block_at_registration", path));
  MERIT_ASSIGN_OR_RETURN(neuron.validatorPermit, boolField(j, "validator_permit", path));
  MERIT_ASSIGN_OR_RETURN(neuron.weights, pairsField(j, "weights", path));
  MERIT_ASSIGN_OR_RETURN(neuron.bonds, pairsField(j, "bonds", path));
  MERIT_ASSIGN_OR_RETURN(neuron.commitBlock, nullableU64Field(j, "commit_block", path, kU64Max));
  return neuron;
}

Result<EpochInput> fromJson(const json& root) {
  MERIT_TRY(requireObject(root, "",
                          {"current_block", "tempo", "rao_emission", "last_mechanism_step_block", "owner_uid",
                           "hyperparameters", "neurons"}));
  EpochInput input;
  MERIT_ASSIGN_OR_RETURN(input.currentBlock, u64Field(root, "current_block", ""));
  MERIT_ASSIGN_OR_RETURN(uint64_t tempo, u64Field(root, "tempo", "", 65535));
  input.tempo = static_cast<uint16_t>(tempo);
  MERIT_ASSIGN_OR_RETURN(input.raoEmission, u64Field(root, "rao_emission", ""));
  MERIT_ASSIGN_OR_RETURN(input.lastMechanismStepBlock, u64Field(root, "last_mechanism_step_block", ""));
  MERIT_ASSIGN_OR_RETURN(std::optional<uint64_t> owner, nullableU64Field(root, "owner_uid", "", 65535));
  if (owner) input.ownerUid = static_cast<uint16_t>(*owner);
  MERIT_ASSIGN_OR_RETURN(input.hyperparameters, parseHyperparameters(root));
  MERIT_ASSIGN_OR_RETURN(const json* neurons, field(root, "neurons", ""));
  if (!neurons->is_array()) return invalid("neurons", "expected an array, got " + typeName(*neurons));
  if (neurons->size() > kMaxNeurons) {
    return invalid("neurons",
                   std::to_string(neurons->size()) + " neurons, at most " + std::to_string(kMaxNeurons));
  }
  input.neurons.reserve(neurons->size());
  for (std::size_t i = 0; i < neurons->size(); ++i) {
    MERIT_ASSIGN_OR_RETURN(NeuronInput neuron,
                           parseNeuron((*neurons)[i], "neurons[" + std::to_string(i) + "]"));
    input.neurons.push_back(std::move(neuron));
  }
  MERIT_TRY(validateEpochInput(input));
  return input;
}

}  // namespace

Result<EpochInput> parseEpochInput(std::string_view text) {
  if (text.size() > kMaxEpochJsonBytes) {
    return invalid("input",
                   std::to_string(text.size()) + " bytes, at most " + std::to_string(kMaxEpochJsonBytes));
  }
  MERIT_TRY(checkDepth(text));
  // nlohmann reports syntax errors by exception; this is the parser's edge, so catch them here.
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    return invalid("input", std::string("not valid JSON: ") + e.what());
  }
  return fromJson(root);
}

nlohmann::ordered_json epochOutputJson(const EpochOutput& output) {
  nlohmann::ordered_json j;
  j["active"] = output.active;
  j["stake_weight"] = output.stakeWeight;
  j["consensus"] = output.consensus;
  j["incentive"] = output.incentive;
  j["dividends"] = output.dividends;
  j["validator_trust"] = output.validatorTrust;
  j["emission"] = output.emission;
  j["server_emission"] = output.serverEmission;
  j["validator_emission"] = output.validatorEmission;
  j["validator_permit"] = output.validatorPermit;
  nlohmann::ordered_json bonds = nlohmann::ordered_json::array();
  for (const auto& row : output.bonds) {
    nlohmann::ordered_json r = nlohmann::ordered_json::array();
    for (const UidValue& b : row) r.push_back({b.uid, b.value});
    bonds.push_back(std::move(r));
  }
  j["bonds"] = std::move(bonds);
  return j;
}

std::string formatEpochOutput(const EpochOutput& output) {
  return epochOutputJson(output).dump();
}

nlohmann::ordered_json epochInputJson(const EpochInput& input) {
  const auto pairs = [](const std::vector<UidValue>& row) {
    nlohmann::ordered_json r = nlohmann::ordered_json::array();
    for (const UidValue& e : row) r.push_back({e.uid, e.value});
    return r;
  };
  const Hyperparameters& h = input.hyperparameters;
  nlohmann::ordered_json hp;
  hp["kappa"] = h.kappa;
  hp["bonds_penalty"] = h.bondsPenalty;
  hp["bonds_moving_average"] = h.bondsMovingAverage;
  hp["yuma3"] = h.yuma3;
  hp["liquid_alpha"] = h.liquidAlpha;
  hp["alpha_low"] = h.alphaLow;
  hp["alpha_high"] = h.alphaHigh;
  hp["alpha_sigmoid_steepness"] = h.alphaSigmoidSteepness;
  hp["activity_cutoff"] = h.activityCutoff;
  hp["max_allowed_validators"] = h.maxAllowedValidators;
  hp["stake_threshold"] = h.stakeThreshold;
  hp["commit_reveal"] = h.commitReveal;
  nlohmann::ordered_json j;
  j["current_block"] = input.currentBlock;
  j["tempo"] = input.tempo;
  j["rao_emission"] = input.raoEmission;
  j["last_mechanism_step_block"] = input.lastMechanismStepBlock;
  j["owner_uid"] = input.ownerUid ? nlohmann::ordered_json(*input.ownerUid) : nlohmann::ordered_json(nullptr);
  j["hyperparameters"] = std::move(hp);
  nlohmann::ordered_json neurons = nlohmann::ordered_json::array();
  for (const NeuronInput& n : input.neurons) {
    nlohmann::ordered_json o;
    o["stake"] = n.stake;
    o["last_update"] = n.lastUpdate;
    o["block_at_registration"] = n.blockAtRegistration;
    o["validator_permit"] = n.validatorPermit;
    o["weights"] = pairs(n.weights);
    o["bonds"] = pairs(n.bonds);
    o["commit_block"] =
        n.commitBlock ? nlohmann::ordered_json(*n.commitBlock) : nlohmann::ordered_json(nullptr);
    neurons.push_back(std::move(o));
  }
  j["neurons"] = std::move(neurons);
  return j;
}

Result<EpochInput> parseEpochInputJson(const nlohmann::json& root) {
  return fromJson(root);
}

namespace {

template <typename T>
Result<std::vector<T>> outputArray(const json& root, const char* key, std::size_t n, uint64_t max) {
  const std::string path = std::string("output.") + key;
  MERIT_ASSIGN_OR_RETURN(const json* j, field(root, key, "output"));
  if (!j->is_array()) return invalid(path, "expected an array, got " + typeName(*j));
  if (j->size() != n)
    return invalid(path, std::to_string(j->size()) + " entries, expected " + std::to_string(n));
  std::vector<T> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    if constexpr (std::is_same_v<T, bool>) {
      MERIT_ASSIGN_OR_RETURN(bool v, asBool((*j)[i], at));
      out.push_back(v);
    } else {
      MERIT_ASSIGN_OR_RETURN(uint64_t v, asUnsigned((*j)[i], at, max));
      out.push_back(static_cast<T>(v));
    }
  }
  return out;
}

}  // namespace

Result<EpochOutput> parseEpochOutputJson(const nlohmann::json& root) {
  MERIT_TRY(
      requireObject(root, "output",
                    {"active", "stake_weight", "consensus", "incentive", "dividends", "validator_trust",
                     "emission", "server_emission", "validator_emission", "validator_permit", "bonds"}));
  MERIT_ASSIGN_OR_RETURN(const json* active, field(root, "active", "output"));
  if (!active->is_array()) return invalid("output.active", "expected an array, got " + typeName(*active));
  const std::size_t n = active->size();
  if (n > kMaxNeurons)
    return invalid("output.active", std::to_string(n) + " entries, at most " + std::to_string(kMaxNeurons));
  EpochOutput out;
  MERIT_ASSIGN_OR_RETURN(out.active, outputArray<bool>(root, "active", n, 1));
  MERIT_ASSIGN_OR_RETURN(out.stakeWeight, outputArray<uint16_t>(root, "stake_weight", n, 65535));
  MERIT_ASSIGN_OR_RETURN(out.consensus, outputArray<uint16_t>(root, "consensus", n, 65535));
  MERIT_ASSIGN_OR_RETURN(out.incentive, outputArray<uint16_t>(root, "incentive", n, 65535));
  MERIT_ASSIGN_OR_RETURN(out.dividends, outputArray<uint16_t>(root, "dividends", n, 65535));
  MERIT_ASSIGN_OR_RETURN(out.validatorTrust, outputArray<uint16_t>(root, "validator_trust", n, 65535));
  MERIT_ASSIGN_OR_RETURN(out.emission, outputArray<uint64_t>(root, "emission", n, kU64Max));
  MERIT_ASSIGN_OR_RETURN(out.serverEmission, outputArray<uint64_t>(root, "server_emission", n, kU64Max));
  MERIT_ASSIGN_OR_RETURN(out.validatorEmission,
                         outputArray<uint64_t>(root, "validator_emission", n, kU64Max));
  MERIT_ASSIGN_OR_RETURN(out.validatorPermit, outputArray<bool>(root, "validator_permit", n, 1));
  MERIT_ASSIGN_OR_RETURN(const json* bonds, field(root, "bonds", "output"));
  if (!bonds->is_array() || bonds->size() != n)
    return invalid("output.bonds", "expected an array of " + std::to_string(n) + " rows");
  out.bonds.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    MERIT_ASSIGN_OR_RETURN(auto row, pairsOf(&(*bonds)[i], "output.bonds[" + std::to_string(i) + "]"));
    out.bonds.push_back(std::move(row));
  }
  return out;
}

}  // namespace merit::consensus
