#include "merit/miner/plugin_handler.h"

#include <string>
#include <utility>
#include <vector>

#include "merit/metrics/metrics.h"

namespace merit::miner {

void renderPluginMetrics(std::string& out, const subnet::ReloadableInstance& plugin) {
  const auto stats = plugin.stats();
  metrics::renderGauge(out, "merit_miner_plugin_version", "Payload version of the subnet plugin in use",
                       stats.version);
  metrics::renderGauge(out, "merit_miner_plugin_generation",
                       "Builds of the subnet plugin loaded so far (1 + successful reloads)",
                       static_cast<double>(stats.generation));
  metrics::renderCounter(out, "merit_miner_plugin_reloads_total", "Plugin reload attempts by outcome",
                         {{"reloaded", stats.reloads}, {"refused", stats.refused}}, "outcome");
  metrics::renderGauge(out, "merit_miner_plugin_draining",
                       "Replaced plugin builds still finishing calls that started before the swap",
                       static_cast<double>(stats.draining));
}

net::ModuleHandler pluginModule(std::shared_ptr<subnet::ReloadableInstance> plugin) {
  net::ModuleHandler module;
  module.module = plugin->name();
  module.version = plugin->version();
  module.liveVersion = plugin->liveVersion();
  module.handler = [plugin = std::move(plugin)](std::span<const wire::Request> batch) {
    using wire::Status;
    // One build for the whole batch, even if a reload swaps it meanwhile.
    auto lease = plugin->acquire();
    const std::uint32_t version = lease.plugin().version();
    std::vector<net::Reply> out(batch.size());
    std::vector<ByteView> views;
    std::vector<std::size_t> indices;
    views.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].header.moduleVersion != version) {
        out[i] = {Status::kNotFound,
                  "no module " + plugin->name() + " version " +
                      std::to_string(batch[i].header.moduleVersion) +
                      " (the plugin was reloaded; it serves version " + std::to_string(version) + ")",
                  {}};
        continue;
      }
      views.emplace_back(batch[i].body);
      indices.push_back(i);
    }
    if (views.empty()) return out;
    auto handled = lease->handleBatch(views);
    if (!handled) {
      for (std::size_t i : indices) out[i] = {Status::kInternal, handled.error().message(), {}};
      return out;
    }
    for (std::size_t k = 0; k < indices.size(); ++k) {
      auto& h = (*handled)[k];
      auto& reply = out[indices[k]];
      switch (h.status) {
        case subnet::RequestStatus::kOk: reply = {Status::kOk, "", std::move(h.body)}; break;
        case subnet::RequestStatus::kInvalidArgument: reply = {Status::kBadRequest, h.message, {}}; break;
        case subnet::RequestStatus::kDrop: reply = {Status::kTimeout, "not answered", {}}; break;
        case subnet::RequestStatus::kOverloaded: reply = {Status::kOverloaded, h.message, {}}; break;
        default: reply = {Status::kInternal, h.message, {}}; break;
      }
    }
    return out;
  };
  return module;
}

}  // namespace merit::miner
