#include "merit/validator/plugin_task.h"

#include <utility>

#include "merit/metrics/metrics.h"

namespace merit::validator {

PluginTask::PluginTask(std::shared_ptr<subnet::ReloadableInstance> plugin) : m_plugin(std::move(plugin)) {}

std::string PluginTask::module() const {
  return m_plugin->name();
}

std::uint32_t PluginTask::version() const {
  return m_step ? m_step->plugin().version() : m_plugin->version();
}

void PluginTask::beginStep() {
  m_step.reset();
  m_step.emplace(m_plugin->acquire());
}

void PluginTask::endStep() {
  m_step.reset();
}

Result<Task::Challenge> PluginTask::makeChallenge() {
  auto made = [](subnet::SubnetInstance& instance) -> Result<Challenge> {
    MERIT_ASSIGN_OR_RETURN(auto c, instance.makeChallenge());
    return Challenge{std::move(c.request), std::move(c.expectation)};
  };
  if (m_step) return made(m_step->instance());
  auto one = m_plugin->acquire();  // outside a step: a lease for this call
  return made(one.instance());
}

Result<double> PluginTask::score(ByteView expectation, ByteView response) {
  if (m_step) return m_step->instance().scoreResponse(expectation, response);
  auto one = m_plugin->acquire();
  return one->scoreResponse(expectation, response);
}

void PluginTask::renderMetrics(std::string& out, const subnet::ReloadableInstance& plugin) {
  const auto stats = plugin.stats();
  metrics::renderGauge(out, "merit_validator_plugin_version", "Payload version of the subnet plugin in use",
                       stats.version);
  metrics::renderGauge(out, "merit_validator_plugin_generation",
                       "Builds of the subnet plugin loaded so far (1 + successful reloads)",
                       static_cast<double>(stats.generation));
  metrics::renderCounter(out, "merit_validator_plugin_reloads_total", "Plugin reload attempts by outcome",
                         {{"reloaded", stats.reloads}, {"refused", stats.refused}}, "outcome");
  metrics::renderGauge(out, "merit_validator_plugin_draining",
                       "Replaced plugin builds still finishing a step that started before the swap",
                       static_cast<double>(stats.draining));
}

}  // namespace merit::validator
