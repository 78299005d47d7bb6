// `merit dashboard`: serves the web dashboard (dashboard.h) of the node named by --url until
// SIGINT or SIGTERM.
#include <charconv>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "merit/rpc/client.h"

#include "commands.h"
#include "dashboard.h"

namespace merit::cli {

namespace {

struct DashboardArgs {
  std::string listen = "127.0.0.1:9980";
  std::string assets;
  std::string localnet;
  std::string historyFile;
  std::size_t historyEpochs = 64;
  std::uint64_t refreshMs = 500;
};

// "HOST:PORT" or "[V6]:PORT".
Result<std::pair<std::string, int>> parseListen(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return fail(ErrorCode::kInvalidArgument,
                "--listen '" + text + "': expected HOST:PORT, e.g. 127.0.0.1:9980");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  std::string p = text.substr(colon + 1);
  auto [end, err] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (err != std::errc() || end != p.data() + p.size() || port < 0 || port > 65535) {
    return fail(ErrorCode::kInvalidArgument, "--listen '" + text + "': the port must be 0 to 65535");
  }
  return std::make_pair(host, port);
}

int runDashboard(const DashboardArgs& a, const ChainSettings& chain) {
  if (chain.backend != "merit") {
    return report(
        Error(ErrorCode::kInvalidArgument, "the dashboard reads merit-chain's JSON-RPC (--chain merit)"));
  }
  auto listen = parseListen(a.listen);
  if (!listen) return report(listen.error());
  dashboard::Options o;
  o.chainUrl = chain.url.empty() ? rpc::defaultChainUrl() : chain.url;
  o.host = listen->first;
  o.port = listen->second;
  o.assets = a.assets;
  o.localnetDir = a.localnet;
  o.historyFile = a.historyFile;
  o.historyEpochs = a.historyEpochs;
  o.minRefresh = std::chrono::milliseconds(a.refreshMs);
  // Signals are taken by sigwait() below: blocked before any thread starts, so none of the
  // dashboard's threads receives them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto d = dashboard::Dashboard::start(o);
  if (!d) return report(d.error());
  std::printf("{\"event\":\"ready\",\"url\":\"%s\",\"chain\":\"%s\"}\n", (*d)->url().c_str(),
              o.chainUrl.c_str());
  std::fprintf(stderr, "dashboard of %s at %s (Ctrl-C stops it)\n", o.chainUrl.c_str(), (*d)->url().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  d->reset();
  return kExitOk;
}

}  // namespace

void addDashboardCommand(CLI::App& app, int& exitCode, const ChainSettings& chain) {
  auto a = std::make_shared<DashboardArgs>();
  auto* cmd = app.add_subcommand(
      "dashboard", "Serve a web dashboard of the chain (network, subnets, metagraphs, weights, history)");
  cmd->add_option("--listen", a->listen, "HOST:PORT to serve on (port 0: any free port); loopback by default")
      ->capture_default_str();
  cmd->add_option("--assets", a->assets, "Directory of the pages (default: installed with merit)");
  cmd->add_option("--localnet", a->localnet,
                  "A `merit localnet` data directory: also show its processes, tiers and validator scores");
  cmd->add_option("--history-file", a->historyFile,
                  "Keep the per-epoch history here too, so a restarted dashboard still has it");
  cmd->add_option("--history-epochs", a->historyEpochs, "Epochs of history kept per subnet")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--refresh-ms", a->refreshMs, "At most one refresh from the chain per this interval")
      ->capture_default_str()
      ->check(CLI::Range(100, 60'000));
  cmd->callback([&exitCode, a, &chain] { exitCode = runDashboard(*a, chain); });
}

}  // namespace merit::cli
