// What the wire benchmarks (bench_wire, bench_fanout) share: the echo module their axons serve and
// an axon configuration whose limits never shape the figures.
#pragma once

#include <span>
#include <vector>

#include "merit/net/axon.h"

namespace merit::bench {

// Answers every request with its own body.
inline net::ModuleHandler echoModule() {
  return {"echo", 1, [](std::span<const wire::Request> batch) {
            std::vector<net::Reply> out(batch.size());
            for (std::size_t i = 0; i < batch.size(); ++i) out[i].body = batch[i].body;
            return out;
          }};
}

inline net::AxonConfig benchAxonConfig() {
  net::AxonConfig config;
  config.workerThreads = 2;
  config.queueCapacity = 4096;
  config.rateLimitPerSecond = 1e9;
  config.rateLimitBurst = 1e9;
  // Every caller shares the loopback address: the per-address pre-authentication bucket would
  // answer RATE_LIMITED and inflate the figures.
  config.peerRateLimitPerSecond = 1e9;
  config.peerRateLimitBurst = 1e9;
  config.maxMessageBytes = 8u << 20;
  config.transportMaxMessageBytes = 16u << 20;
  return config;
}

}  // namespace merit::bench
