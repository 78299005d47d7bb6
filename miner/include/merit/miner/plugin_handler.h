// The subnet plugin as the axon's module: requests go to the plugin's current build through a
// lease per batch, so a reload (merit/subnet_host/reload.h) never cuts a batch in half.
//
// Thread-safety: the handler is called by the axon's worker threads concurrently; the
// ReloadableInstance it shares is thread-safe.
#pragma once

#include <memory>
#include <string>

#include "merit/net/axon.h"
#include "merit/subnet_host/reload.h"

namespace merit::miner {

// The module for the axon: name and live version of the plugin, and a handler that maps the
// plugin's per-request statuses to replies. A DROP becomes TIMEOUT: the axon answers every
// admitted request, and to the validator an unanswered request is a timeout either way. A request
// for a payload version the plugin no longer speaks (admitted just before a reload changed it) is
// answered NOT_FOUND, as the axon answers it after the reload.
net::ModuleHandler pluginModule(std::shared_ptr<subnet::ReloadableInstance> plugin);

// Appends the plugin's reload metrics (merit_miner_plugin_*: version, generation, reloads by
// outcome, old builds still draining) in Prometheus text.
void renderPluginMetrics(std::string& out, const subnet::ReloadableInstance& plugin);

}  // namespace merit::miner
