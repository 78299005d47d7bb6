// The subnet conformance suite: runs a plugin through what a network will do to it and reports
// one pass/fail/skip line per check (docs/SUBNETS.md, "The conformance suite"). Shared by
// `merit-subnet-check --suite` and `merit subnet check`.
//
// Every check that calls into the plugin runs in a forked child process with a deadline, so a
// plugin that crashes or hangs fails that check instead of taking the checker down. The parent
// only dlopen()s the plugin (and reads its table); it never creates an instance or a thread, so
// forking stays safe even for plugins that start thread pools.
//
// Thread-safety: run() forks and waits; call it from a single-threaded program (or at least with
// no other thread holding locks the plugin needs). The value types are plain.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace merit::subnet::conformance {

// Per-call time budgets, compared with the median of the honest rounds' calls.
struct Budgets {
  double challengeMs = 100;  // make_challenge
  double serveMs = 1000;     // handle_batch of one request
  double scoreMs = 100;      // score_response
};

struct Options {
  std::string plugin;                   // a name, a path to a .so, or a project directory
  std::vector<std::string> subnetPath;  // directories searched first for a name
  std::string config;                   // plugin YAML for both roles (text, not a path)
  std::string minerConfig;              // overrides config for the honest miner
  std::string validatorConfig;          // overrides config for the validator
  std::string wrongMinerConfig;         // a miner whose answers are wrong; empty: corrupt honest ones
  int rounds = 20;                      // honest rounds (and wrong rounds)
  double minHonest = 0.9;               // the honest miner's mean quality must reach this
  double maxWrong = 0.1;                // a wrong answer's mean quality must not exceed this
  int fuzzCases = 300;                  // fuzzed responses (and requests) per check
  int threads = 4;                      // concurrent callers in the concurrency check
  std::string seedKey = "seed";         // validator config key that seeds challenges, if any
  double checkTimeoutS = 60;            // per check: longer counts as a hang
  double maxCallS = 5;                  // one fuzzed call taking longer fails the fuzz check
  std::size_t maxRssGrowthMiB = 64;     // RSS growth allowed over the fuzz loop's second half
  Budgets budgets;
};

enum class Outcome { kPass, kFail, kSkip };

struct CheckResult {
  std::string name;  // stable, e.g. "fuzz_score"
  Outcome outcome = Outcome::kFail;
  std::string reason;  // one line
  double seconds = 0;
};

struct Report {
  std::string plugin;  // as asked
  std::string path;    // the file loaded (empty when it could not be found)
  std::string name;    // the plugin's own name
  std::uint32_t version = 0;
  std::vector<CheckResult> checks;
  bool passed() const;  // no check failed (skips are not failures)
};

// Registers the suite's options on `app` (both front ends share them, so they read alike).
// Config options take file paths; they are read into `options` by loadConfigFiles().
struct ConfigFiles {
  std::string config, minerConfig, validatorConfig, wrongMinerConfig;
};
void addOptions(CLI::App& app, Options& options, ConfigFiles& files);

// When options.plugin is a project directory with a conformance.yaml, takes from it what the
// command line (`app`, parsed) did not set: plugin (replaces options.plugin: a name, or a .so
// path relative to the directory; a Python project names the python host), budgets
// {challenge_ms, serve_ms, score_ms},
// min_honest, max_wrong, rounds, and config, miner_config, validator_config, wrong_miner_config
// (file paths relative to the directory). Unknown keys are errors. Then reads the files named in
// `files` into `options`. False with a message on stderr on any error.
bool loadConfigFiles(const CLI::App& app, ConfigFiles& files, Options& options);

// Runs every check; never throws for the plugin's faults.
Report run(const Options& options);

// "PASS name  reason" lines and a summary, or one JSON object.
std::string formatText(const Report& report);
std::string formatJson(const Report& report);

}  // namespace merit::subnet::conformance
