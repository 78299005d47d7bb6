// `merit dashboard`: a web dashboard of any merit-chain node, served on loopback by default.
//
// A Collector thread follows the chain's block feed (polling the head when the feed is silent),
// refreshes a snapshot of the network at most once per refresh interval (head, subnets with
// their metagraphs, weights and bonds, root weights, per-epoch history, and with a localnet its
// processes and the validators' scores), and keeps it as ready-to-send JSON text. Browsers get
// that text and a Server-Sent Events stream (`/events`): `block` on every block of the feed,
// `update` after each refresh, so pages change without a reload. A request never calls the
// chain: its work is a copy of the snapshot, so browsers cannot load the node, whatever they do.
// Limits: GET and HEAD only, request bodies refused, at most `maxSseClients` event streams and
// `workers` connections served at once (further connections wait in the kernel's backlog).
//
// Assets (index.html, app.js, style.css) are files installed with the project
// (share/meritnet/dashboard), read once at start.
//
// Thread-safety: Dashboard::start() and the destructor from one thread; the dashboard runs its
// own threads (collector, HTTP workers) and shares nothing else with the caller.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "merit/util/result.h"

#include "cli_app.h"

namespace merit::cli {

struct ChainSettings;

// Adds `merit dashboard` (declared here rather than in commands.h, like the command's code).
void addDashboardCommand(CLI::App& app, int& exitCode, const ChainSettings& chain);

}  // namespace merit::cli

namespace merit::cli::dashboard {

struct Options {
  std::string chainUrl;                       // the node's JSON-RPC URL
  std::string host = "127.0.0.1";             // --listen host: loopback unless asked otherwise
  int port = 9980;                            // 0: any free port
  std::filesystem::path assets;               // empty: findAssets()
  std::filesystem::path localnetDir;          // a `merit localnet` data directory: its processes pane
  std::filesystem::path historyFile;          // empty: history is kept in memory only
  std::size_t historyEpochs = 64;             // epochs of history kept per subnet
  std::chrono::milliseconds minRefresh{500};  // at most one snapshot refresh per this interval
  std::size_t maxSubnets = 64;                // subnets shown (the lowest netuids)
  std::size_t maxSseClients = 8;              // event streams open at once; more get HTTP 503
  std::size_t workers = 16;                   // HTTP connections served at once (streams included)
};

// The assets directory: `explicitDir` if given, else $MERIT_DASHBOARD_ASSETS, else
// <exe>/../share/meritnet/dashboard, the install prefix's, then the build tree's copy. The
// error names every place tried.
Result<std::filesystem::path> findAssets(const std::filesystem::path& explicitDir);

class Dashboard {
 public:
  // Connects to the chain (failing if it does not answer), reads the assets, binds the port and
  // starts serving.
  static Result<std::unique_ptr<Dashboard>> start(const Options& options);
  virtual ~Dashboard() = default;
  // "http://127.0.0.1:9980" (the bound port when it was 0).
  virtual std::string url() const = 0;
};

}  // namespace merit::cli::dashboard
