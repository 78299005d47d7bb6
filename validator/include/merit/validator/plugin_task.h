// The subnet plugin's validator side as the loop's Task, reloadable (merit/subnet_host/reload.h):
// each step holds one lease, so the challenges of a step are scored by the build that made them
// even when a reload swaps the plugin meanwhile, and the next step uses the new build.
//
// Thread-safety: the Task calls (beginStep, makeChallenge, score, endStep, module, version) come
// from the validator loop's thread only; renderMetrics from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "merit/subnet_host/reload.h"
#include "merit/validator/validator.h"

namespace merit::validator {

class PluginTask final : public Task {
 public:
  explicit PluginTask(std::shared_ptr<subnet::ReloadableInstance> plugin);

  std::string module() const override;
  std::uint32_t version() const override;
  void beginStep() override;
  void endStep() override;
  Result<Challenge> makeChallenge() override;
  Result<double> score(ByteView expectation, ByteView response) override;

  // The plugin's reload metrics (merit_validator_plugin_*), in Prometheus text.
  static void renderMetrics(std::string& out, const subnet::ReloadableInstance& plugin);

 private:
  std::shared_ptr<subnet::ReloadableInstance> m_plugin;
  std::optional<subnet::ReloadableInstance::Lease> m_step;  // between beginStep and endStep
};

}  // namespace merit::validator
