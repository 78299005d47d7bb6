// merit_consensus_json: the `merit yuma epoch` input format, its errors (each naming the
// field), and the output format.
#include <string>

#include <doctest/doctest.h>

#include "merit/consensus_json/epoch_json.h"

namespace merit::consensus {
namespace {

// The example of the issue / docs/CONSENSUS.md, with `n` neurons appended by the caller.
std::string document(const std::string& neurons, const std::string& extraRoot = "") {
  return R"({"current_block": 2, "tempo": 1, "rao_emission": 1000000000,
  "last_mechanism_step_block": 0, "owner_uid": null, )" +
         extraRoot + R"(
  "hyperparameters": {"kappa": 32767, "bonds_penalty": 65535, "bonds_moving_average": 900000,
    "yuma3": false, "liquid_alpha": false, "alpha_low": 45875, "alpha_high": 58982,
    "alpha_sigmoid_steepness": 1000, "activity_cutoff": 5000, "max_allowed_validators": 64,
    "stake_threshold": 0, "commit_reveal": false},
  "neurons": [)" +
         neurons + "]}";
}

const std::string kValidator =
    R"({"stake": 1000000000, "last_update": 1, "block_at_registration": 0, "validator_permit": true,
        "weights": [[1, 16383], [2, 32767]], "bonds": [[1, 65535]], "commit_block": null})";
const std::string kServer =
    R"({"stake": 0, "last_update": 1, "block_at_registration": 0, "validator_permit": false,
        "weights": [], "bonds": [], "commit_block": 5})";

std::string errorOf(const std::string& text) {
  auto r = parseEpochInput(text);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  return r.error().message();
}

TEST_CASE("parses the documented format") {
  auto in = parseEpochInput(document(kValidator + "," + kServer + "," + kServer));
  REQUIRE(in.has_value());
  CHECK(in->currentBlock == 2);
  CHECK(in->tempo == 1);
  CHECK(in->raoEmission == 1'000'000'000);
  CHECK_FALSE(in->ownerUid.has_value());
  CHECK(in->hyperparameters.kappa == 32767);
  CHECK(in->hyperparameters.alphaSigmoidSteepness == 1000);
  REQUIRE(in->neurons.size() == 3);
  CHECK(in->neurons[0].weights == std::vector<UidValue>{{1, 16383}, {2, 32767}});
  CHECK(in->neurons[0].bonds == std::vector<UidValue>{{1, 65535}});
  CHECK_FALSE(in->neurons[0].commitBlock.has_value());
  CHECK(in->neurons[1].commitBlock == 5);
  auto out = runEpoch(*in);
  REQUIRE(out.has_value());
  std::string text = formatEpochOutput(*out);
  CHECK(text.starts_with(R"({"active":[true,true,true],"stake_weight":[65535,0,0],"consensus":)"));
  CHECK(text.find(R"("bonds":[[[1,65535],[2,65535]],[],[]]})") != std::string::npos);
}

TEST_CASE("malformed input is an error naming the field") {
  CHECK(errorOf("").starts_with("input: not valid JSON"));
  CHECK(errorOf("{\"current_block\": ").starts_with("input: not valid JSON"));
  CHECK(errorOf("[]") == "input: expected an object, got array");
  CHECK(errorOf(std::string(100, '[')) == "input: nesting deeper than 8 levels");
  CHECK(errorOf(document(kValidator, R"("extra": 1,)")) == "extra: unknown key");
  CHECK(errorOf(R"({"tempo": 1})") == "current_block: missing");

  std::string missingKappa = document(kValidator);
  missingKappa.replace(missingKappa.find("\"kappa\": 32767, "), 16, "");
  CHECK(errorOf(missingKappa) == "hyperparameters.kappa: missing");

  std::string negative = document(kValidator);
  negative.replace(negative.find("\"tempo\": 1"), 10, "\"tempo\": -1");
  CHECK(errorOf(negative) == "tempo: -1 is negative");

  std::string fraction = document(kValidator);
  fraction.replace(fraction.find("\"kappa\": 32767"), 14, "\"kappa\": 0.5");
  CHECK(errorOf(fraction) == "hyperparameters.kappa: expected a non-negative integer, got a fraction");

  std::string big = document(kValidator);
  big.replace(big.find("\"kappa\": 32767"), 14, "\"kappa\": 65536");
  CHECK(errorOf(big) == "hyperparameters.kappa: 65536 > maximum 65535");

  std::string steep = document(kValidator);
  steep.replace(steep.find("\"alpha_sigmoid_steepness\": 1000"), 31, "\"alpha_sigmoid_steepness\": 40000");
  CHECK(errorOf(steep) == "hyperparameters.alpha_sigmoid_steepness: 40000 > maximum 32767");

  std::string bma = document(kValidator);
  bma.replace(bma.find("900000"), 6, "1000001");
  CHECK(errorOf(bma) == "hyperparameters.bonds_moving_average: 1000001 > maximum 1000000");

  std::string flag = document(kValidator);
  flag.replace(flag.find("\"yuma3\": false"), 14, "\"yuma3\": 0");
  CHECK(errorOf(flag) == "hyperparameters.yuma3: expected true or false, got an integer");

  CHECK(errorOf(document(kValidator)) == "neurons[0].weights[0]: uid 1 >= n 1");
  std::string dup = kValidator;
  dup.replace(dup.find("[[1, 16383], [2, 32767]]"), 24, "[[1, 16383], [1, 32767]]");
  CHECK(errorOf(document(dup + "," + kServer + "," + kServer)) == "neurons[0].weights[1]: duplicate uid 1");
  std::string pair = kValidator;
  pair.replace(pair.find("[1, 16383]"), 10, "[1]");
  CHECK(errorOf(document(pair + "," + kServer + "," + kServer)) ==
        "neurons[0].weights[0]: expected [uid, value]");
  std::string badBond = kValidator;
  badBond.replace(badBond.find("[[1, 65535]]"), 12, "[[9, 65535]]");
  CHECK(errorOf(document(badBond + "," + kServer + "," + kServer)) == "neurons[0].bonds[0]: uid 9 >= n 3");
  std::string noPermit = kServer;
  noPermit.replace(noPermit.find("\"validator_permit\": false,"), 26, "");
  CHECK(errorOf(document(kValidator + "," + noPermit + "," + kServer)) ==
        "neurons[1].validator_permit: missing");

  std::string owner = document(kValidator + "," + kServer + "," + kServer);
  owner.replace(owner.find("\"owner_uid\": null"), 17, "\"owner_uid\": 3");
  CHECK(errorOf(owner) == "owner_uid: 3 >= n 3");

  std::string stake = document(kServer + "," + kServer);
  stake.replace(stake.find("\"stake\": 0"), 10, "\"stake\": 9223372036854775808");
  CHECK(errorOf(stake) == "neurons[0].stake: total stake reaches 2^63");
}

}  // namespace
}  // namespace merit::consensus
