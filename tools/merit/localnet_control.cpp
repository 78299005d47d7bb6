#include "localnet_control.h"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <signal.h>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "merit/rpc/client.h"
#include "merit/util/file.h"

#include "commands.h"
#include "localnet_process.h"
#include "localnet_state.h"
#include "localnet_view.h"

namespace merit::cli::localnet {

namespace fs = std::filesystem;
using nlohmann::json;

int printStatus(const fs::path& dir, bool asJson) {
  auto state = loadState(dir);
  if (!state) {
    if (asJson) {
      std::printf("%s\n", json{{"running", false}, {"data_dir", dir.string()}}.dump(2).c_str());
    } else {
      std::printf("no localnet in %s\n", dir.c_str());
    }
    return kExitFailure;
  }
  bool running = processAlive(state->supervisor) && state->phase != "stopped";
  auto alive = alivePids(*state);
  std::optional<Snapshot> snap;
  if (running && alive.count(state->members.empty() ? 0 : state->members.front().pid)) {
    rpc::ClientOptions o;
    o.retries = 1;
    if (auto client = rpc::ChainClient::connect(state->chainUrl, o)) {
      if (auto s = snapshot(**client, *state)) snap = *s;
    }
  }
  if (asJson) {
    json j = {{"running", running},           {"data_dir", dir.string()},
              {"phase", state->phase},        {"supervisor_pid", state->supervisor},
              {"chain_url", state->chainUrl}, {"epochs", state->epochs},
              {"processes", json::array()}};
    for (const auto& m : state->members) {
      j["processes"].push_back({{"name", m.hotkeyName.empty() ? m.name : m.hotkeyName},
                                {"role", m.role},
                                {"pid", m.pid},
                                {"alive", alive.count(m.pid) > 0},
                                {"log", m.log.string()}});
    }
    if (snap) {
      j["block"] = snap->block;
      json summary = summaryJson(*state, *snap, false);
      j["subnets"] = summary["subnets"];
      j["tiers"] = summary["tiers"];
      for (std::size_t i = 0; i < state->subnets.size() && i < snap->subnets.size(); ++i) {
        j["subnets"][i]["blocks_until_next_epoch"] = snap->subnets[i].blocksUntilNext;
      }
    }
    std::printf("%s\n", j.dump(2).c_str());
    return running ? kExitOk : kExitFailure;
  }
  std::printf("localnet in %s: %s (supervisor pid %d, phase %s)\n", dir.c_str(),
              running ? "running" : "not running", static_cast<int>(state->supervisor), state->phase.c_str());
  std::printf("chain %s; dev wallet '%s' in %s/home (password '%s', DEV ONLY)\n", state->chainUrl.c_str(),
              kDevWallet, dir.c_str(), kDevPassword);
  std::printf("processes:\n");
  for (const auto& m : state->members) {
    std::string name = m.hotkeyName.empty() ? m.name : m.hotkeyName;
    std::printf("  %-24s %-9s pid %-8d %-5s %s\n", name.c_str(), m.role.c_str(), static_cast<int>(m.pid),
                alive.count(m.pid) ? "up" : "down", m.log.c_str());
  }
  if (snap) std::fputs(fullView(*state, *snap, alive, false).c_str(), stdout);
  return running ? kExitOk : kExitFailure;
}

int stopLocalnet(const fs::path& dir, std::uint64_t timeoutS, const Clock& clock) {
  auto state = loadState(dir);
  auto pidText = readFile(dir / "localnet.pid", 64);
  pid_t supervisor = 0;
  if (pidText)
    supervisor = static_cast<pid_t>(std::strtol(pidText->c_str(), nullptr, 10));
  else if (state)
    supervisor = state->supervisor;
  bool any = false;
  if (supervisor > 0 && processAlive(supervisor) &&
      processCommandLine(supervisor).find("localnet") != std::string::npos) {
    any = true;
    std::printf("stopping the localnet supervisor (pid %d)\n", static_cast<int>(supervisor));
    std::fflush(stdout);
    ::kill(supervisor, SIGTERM);
    auto deadline = clock.monotonicNow() + std::chrono::seconds(timeoutS);
    while (processAlive(supervisor) && clock.monotonicNow() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (processAlive(supervisor)) {
      std::fprintf(stderr, "supervisor still running after %s s: killing it\n",
                   std::to_string(timeoutS).c_str());
      ::kill(supervisor, SIGKILL);
    }
  }
  // Whatever the supervisor left (it was killed, or crashed): its children by pid, if they are
  // still the processes we started (the pid was not reused by something else).
  std::size_t leftovers = 0;
  if (state) {
    auto ours = [](const Member& m) {
      return processAlive(m.pid) &&
             processCommandLine(m.pid).find(m.binary.filename().string()) != std::string::npos;
    };
    for (const auto& m : state->members) {
      if (ours(m)) {
        any = true;
        ::kill(m.pid, SIGTERM);
      }
    }
    auto deadline = clock.monotonicNow() + std::chrono::seconds(10);
    for (const auto& m : state->members) {
      while (ours(m) && clock.monotonicNow() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (ours(m)) {
        ::kill(m.pid, SIGKILL);
        ++leftovers;
      }
    }
  }
  std::error_code ec;
  fs::remove(dir / "localnet.pid", ec);
  if (!any) {
    std::printf("no localnet running in %s\n", dir.c_str());
    return kExitFailure;
  }
  std::printf("localnet in %s stopped%s\n", dir.c_str(),
              leftovers ? (" (" + std::to_string(leftovers) + " processes had to be killed)").c_str() : "");
  return kExitOk;
}

}  // namespace merit::cli::localnet
