#include "merit/rpc/subnet_params.h"

#include <limits>
#include <string>
#include <variant>

namespace merit::rpc {

namespace {

using Field =
    std::variant<std::uint16_t SubnetParams::*, std::uint64_t SubnetParams::*, bool SubnetParams::*>;

struct Entry {
  std::string_view name;
  Field field;
};

// The one table of names and types; set() and forEach() both read it.
constexpr Entry kFields[] = {
    {"tempo", &SubnetParams::tempo},
    {"kappa", &SubnetParams::kappa},
    {"rho", &SubnetParams::rho},
    {"bonds_moving_average", &SubnetParams::bondsMovingAverage},
    {"bonds_penalty", &SubnetParams::bondsPenalty},
    {"yuma3", &SubnetParams::yuma3},
    {"liquid_alpha", &SubnetParams::liquidAlpha},
    {"alpha_low", &SubnetParams::alphaLow},
    {"alpha_high", &SubnetParams::alphaHigh},
    {"activity_cutoff", &SubnetParams::activityCutoff},
    {"max_allowed_validators", &SubnetParams::maxAllowedValidators},
    {"max_allowed_uids", &SubnetParams::maxAllowedUids},
    {"immunity_period", &SubnetParams::immunityPeriod},
    {"target_registrations_per_interval", &SubnetParams::targetRegistrationsPerInterval},
    {"adjustment_interval", &SubnetParams::adjustmentInterval},
    {"min_burn", &SubnetParams::minBurn},
    {"max_burn", &SubnetParams::maxBurn},
    {"registration_allowed", &SubnetParams::registrationAllowed},
    {"weights_rate_limit", &SubnetParams::weightsRateLimit},
    {"min_allowed_weights", &SubnetParams::minAllowedWeights},
    {"max_weight_limit", &SubnetParams::maxWeightLimit},
    {"weights_version_key", &SubnetParams::weightsVersionKey},
    {"commit_reveal", &SubnetParams::commitReveal},
    {"reveal_period_epochs", &SubnetParams::revealPeriodEpochs},
    {"stake_threshold", &SubnetParams::stakeThreshold},
    {"serving_rate_limit", &SubnetParams::servingRateLimit},
};

}  // namespace

Result<bool> SubnetParams::set(std::string_view name, std::uint64_t value) {
  for (const auto& e : kFields) {
    if (e.name != name) continue;
    auto bad = [&](const char* range) {
      return fail(ErrorCode::kInvalidArgument,
                  "hyperparameter " + std::string(name) + " = " + std::to_string(value) + " is not " + range);
    };
    if (const auto* u16 = std::get_if<std::uint16_t SubnetParams::*>(&e.field)) {
      if (value > std::numeric_limits<std::uint16_t>::max()) return bad("a u16");
      this->*(*u16) = static_cast<std::uint16_t>(value);
    } else if (const auto* flag = std::get_if<bool SubnetParams::*>(&e.field)) {
      if (value > 1) return bad("0 or 1");
      this->*(*flag) = value == 1;
    } else {
      this->*std::get<std::uint64_t SubnetParams::*>(e.field) = value;
    }
    return true;
  }
  return false;
}

void SubnetParams::forEach(const std::function<void(std::string_view, std::uint64_t)>& f) const {
  for (const auto& e : kFields) {
    std::visit([&](auto member) { f(e.name, static_cast<std::uint64_t>(this->*member)); }, e.field);
  }
}

}  // namespace merit::rpc
