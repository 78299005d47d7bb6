#include "merit/subnet_conformance/conformance.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <latch>
#include <memory>
#include <poll.h>
#include <random>
#include <set>
#include <signal.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "merit/subnet_host/plugin.h"
#include "merit/subnet_host/search_path.h"
#include "merit/util/file.h"

namespace merit::subnet::conformance {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string fmt(double v, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// What a check's body returns (in the child).
struct Verdict {
  Outcome outcome;
  std::string reason;
};
Verdict pass(std::string reason) {
  return {Outcome::kPass, std::move(reason)};
}
Verdict failed(std::string reason) {
  return {Outcome::kFail, std::move(reason)};
}
Verdict skipped(std::string reason) {
  return {Outcome::kSkip, std::move(reason)};
}

std::string oneLine(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  if (s.size() > 400) s = s.substr(0, 400) + "...";
  return s;
}

// Runs `body` in a forked child with a deadline. The child reports its verdict through a pipe;
// a crash (signal), an exit without a verdict, or running past the deadline fail the check.
CheckResult isolated(const std::string& name, double timeoutS, const std::function<Verdict()>& body) {
  CheckResult result{name, Outcome::kFail, "", 0};
  const auto start = Clock::now();
  int fds[2];
  if (::pipe(fds) != 0) {
    result.reason = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    result.reason = std::string("fork: ") + std::strerror(errno);
    return result;
  }
  if (pid == 0) {
    ::close(fds[0]);
    // Whatever the plugin prints goes to stderr, so stdout stays the report (--json).
    ::dup2(STDERR_FILENO, STDOUT_FILENO);
    Verdict v{Outcome::kFail, ""};
    try {
      v = body();
    } catch (const std::exception& e) {
      v = failed(std::string("the check threw: ") + e.what());
    } catch (...) {
      v = failed("the check threw an unknown exception");
    }
    const char tag = v.outcome == Outcome::kPass ? 'P' : v.outcome == Outcome::kSkip ? 'S' : 'F';
    const std::string line = std::string(1, tag) + oneLine(v.reason);
    std::size_t off = 0;
    while (off < line.size()) {
      const ssize_t n = ::write(fds[1], line.data() + off, line.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    ::close(fds[1]);
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(0);  // no atexit handlers or plugin destructors of the parent's copy
  }
  ::close(fds[1]);
  std::string out;
  bool timedOut = false;
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeoutS));
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timedOut = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child closed its end (done or dead)
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  if (timedOut) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (timedOut) {
    result.reason = "did not finish within " + fmt(timeoutS, 0) + " s (a hang?); killed";
  } else if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    result.reason =
        "the plugin crashed the process: signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  } else if (out.empty()) {
    result.reason =
        "the process exited (status " + std::to_string(WEXITSTATUS(status)) + ") without a verdict";
  } else {
    result.outcome = out[0] == 'P' ? Outcome::kPass : out[0] == 'S' ? Outcome::kSkip : Outcome::kFail;
    result.reason = out.substr(1);
  }
  return result;
}

// A plugin given as a project directory: the one libmerit_subnet_*.so in DIR/build/subnets,
// DIR/subnets or DIR.
Result<std::string> resolvePlugin(const std::string& plugin) {
  std::error_code ec;
  if (!fs::is_directory(plugin, ec)) return plugin;
  const fs::path dir(plugin);
  for (const fs::path& sub : {dir / "build" / "subnets", dir / "subnets", dir}) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(sub, ec)) {
      const std::string file = entry.path().filename().string();
      if (file.rfind("libmerit_subnet_", 0) == 0 && entry.path().extension() == ".so")
        found.push_back(entry.path());
    }
    if (found.size() == 1) return found.front().string();
    if (found.size() > 1) {
      return fail(ErrorCode::kInvalidArgument,
                  "more than one plugin in " + sub.string() + ": name the .so to check");
    }
  }
  return fail(ErrorCode::kNotFound, "no libmerit_subnet_*.so in " + (dir / "build" / "subnets").string() +
                                        ", " + (dir / "subnets").string() + " or " + dir.string() +
                                        " (build the project first)");
}

std::size_t rssBytes() {
  auto text = readFile("/proc/self/statm", 4096);
  if (!text) return 0;
  std::istringstream in(*text);
  std::size_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// Everything one child needs: a miner and a validator of the plugin.
struct Pair {
  std::unique_ptr<SubnetInstance> miner;
  std::unique_ptr<SubnetInstance> validator;
};

Result<Pair> makePair(SubnetPlugin& plugin, const Options& o) {
  const std::string& mc = o.minerConfig.empty() ? o.config : o.minerConfig;
  const std::string& vc = o.validatorConfig.empty() ? o.config : o.validatorConfig;
  auto miner = plugin.create(Role::kMiner, mc);
  if (!miner) return fail(miner.error().withContext("create(miner)"));
  auto validator = plugin.create(Role::kValidator, vc);
  if (!validator) return fail(validator.error().withContext("create(validator)"));
  return Pair{std::move(*miner), std::move(*validator)};
}

struct Round {
  Challenge challenge;
  Bytes response;
  double quality = 0;
  double challengeMs = 0, serveMs = 0, scoreMs = 0;
};

// One challenge -> answer -> score round; any failure (including a miner that drops or refuses
// a challenge of its own subnet) is an error naming the call.
Result<Round> honestRound(SubnetInstance& miner, SubnetInstance& validator) {
  Round r;
  auto t = Clock::now();
  auto challenge = validator.makeChallenge();
  r.challengeMs = msSince(t);
  if (!challenge) return fail(challenge.error().withContext("make_challenge"));
  r.challenge = std::move(*challenge);
  const ByteView request(r.challenge.request);
  t = Clock::now();
  auto replies = miner.handleBatch(std::span<const ByteView>(&request, 1));
  r.serveMs = msSince(t);
  if (!replies) return fail(replies.error().withContext("handle_batch"));
  if (replies->size() != 1) return fail(ErrorCode::kInternal, "handle_batch: not one reply for one request");
  auto& reply = replies->front();
  if (reply.status != RequestStatus::kOk) {
    return fail(ErrorCode::kInternal, "handle_batch: the miner answered its own subnet's challenge with " +
                                          std::string(requestStatusName(reply.status)) +
                                          (reply.message.empty() ? "" : ": " + reply.message));
  }
  r.response = std::move(reply.body);
  t = Clock::now();
  auto quality = validator.scoreResponse(r.challenge.expectation, r.response);
  r.scoreMs = msSince(t);
  if (!quality) return fail(quality.error().withContext("score_response"));
  if (!(*quality >= 0.0 && *quality <= 1.0)) {
    return fail(ErrorCode::kInternal, "score_response: quality " + fmt(*quality) + " outside [0, 1]");
  }
  r.quality = *quality;
  return r;
}

// The validator config with `key: value` set (the config must be a YAML mapping or empty).
Result<std::string> withKey(const std::string& yaml, const std::string& key, int value) {
  try {
    YAML::Node node = yaml.empty() ? YAML::Node(YAML::NodeType::Map) : YAML::Load(yaml);
    if (node.IsNull()) node = YAML::Node(YAML::NodeType::Map);
    if (!node.IsMap()) return fail(ErrorCode::kInvalidArgument, "the validator config is not a YAML mapping");
    node[key] = value;
    YAML::Emitter out;
    out << node;
    return std::string(out.c_str());
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInvalidArgument, std::string("the validator config is not YAML: ") + e.what());
  }
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Verdict checkAbi(const SubnetPlugin& plugin) {
  const MeritSubnetPluginV1& t = plugin.table();
  if (t.abi_major != MERIT_SUBNET_ABI_MAJOR) return failed("abi_major " + std::to_string(t.abi_major));
  if (t.struct_size < MERIT_SUBNET_PLUGIN_V1_0_SIZE) return failed("table smaller than ABI 1.0's");
  std::string missing;
  const auto need = [&missing](bool present, const char* fn) {
    if (!present) missing += std::string(missing.empty() ? "" : ", ") + fn;
  };
  need(t.create != nullptr, "create");
  need(t.destroy != nullptr, "destroy");
  need(t.handle_batch != nullptr, "handle_batch");
  need(t.make_challenge != nullptr, "make_challenge");
  need(t.score_response != nullptr, "score_response");
  need(t.last_error != nullptr, "last_error");
  need(t.free_buffer != nullptr, "free_buffer");
  if (!missing.empty()) return failed("missing functions: " + missing);
  if (t.reserved0 != 0) return failed("reserved0 is not zero");
  if (!isValidSubnetName(plugin.name())) return failed("invalid name '" + plugin.name() + "'");
  const std::uint64_t unknown = t.flags & ~static_cast<std::uint64_t>(MERIT_SUBNET_FLAG_SERIAL);
  return pass("ABI " + std::to_string(t.abi_major) + "." + std::to_string(t.abi_minor) + ", table " +
              std::to_string(t.struct_size) + " bytes, all 7 functions present, name '" + plugin.name() +
              "', version " + std::to_string(t.version) +
              ((t.flags & MERIT_SUBNET_FLAG_SERIAL) != 0 ? ", SERIAL" : "") +
              (unknown != 0 ? ", unknown flag bits (ignored by hosts)" : ""));
}

Verdict checkCreate(SubnetPlugin& plugin, const Options& o) {
  auto pair = makePair(plugin, o);
  if (!pair) return failed(pair.error().message());
  // Each role refuses the other's calls with an error, not a crash.
  if (pair->miner->makeChallenge()) return failed("make_challenge on a miner instance succeeded");
  const ByteView empty;
  if (pair->validator->handleBatch(std::span<const ByteView>(&empty, 1))) {
    return failed("handle_batch on a validator instance succeeded");
  }
  return pass("a miner and a validator created; each refuses the other role's calls");
}

Verdict checkDistinct(SubnetPlugin& plugin, const Options& o) {
  auto validator = plugin.create(Role::kValidator, o.validatorConfig.empty() ? o.config : o.validatorConfig);
  if (!validator) return failed(validator.error().message());
  constexpr int kCount = 32;
  std::set<Bytes> requests;
  for (int i = 0; i < kCount; ++i) {
    auto c = (*validator)->makeChallenge();
    if (!c) return failed("make_challenge: " + c.error().message());
    requests.insert(c->request);
  }
  const int distinct = static_cast<int>(requests.size());
  if (distinct < kCount - kCount / 10) {
    return failed(std::to_string(distinct) + " distinct requests in " + std::to_string(kCount) +
                  " challenges: a miner could answer from a table");
  }
  return pass(std::to_string(distinct) + " of " + std::to_string(kCount) + " challenges distinct");
}

Verdict checkSeeded(SubnetPlugin& plugin, const Options& o) {
  const std::string& base = o.validatorConfig.empty() ? o.config : o.validatorConfig;
  auto one = withKey(base, o.seedKey, 1);
  auto two = withKey(base, o.seedKey, 2);
  if (!one || !two) {
    return skipped((!one ? one : two).error().message() + ", so no '" + o.seedKey + "' key can be added");
  }
  auto a = plugin.create(Role::kValidator, *one);
  if (!a) {
    return skipped("the validator config has no '" + o.seedKey + "' key (" + oneLine(a.error().message()) +
                   "); ABI 1.0 has no seeded make_challenge, so seeded determinism is checked only "
                   "through that key");
  }
  auto b = plugin.create(Role::kValidator, *one);
  auto c = plugin.create(Role::kValidator, *two);
  if (!b || !c) return failed((!b ? b : c).error().message());
  constexpr int kCount = 8;
  int sameAcrossSeeds = 0;
  for (int i = 0; i < kCount; ++i) {
    auto x = (*a)->makeChallenge();
    auto y = (*b)->makeChallenge();
    auto z = (*c)->makeChallenge();
    if (!x || !y || !z) return failed("make_challenge failed");
    if (x->request != y->request || x->expectation != y->expectation) {
      return failed("challenge " + std::to_string(i) + " differs between two validators with " + o.seedKey +
                    ": 1");
    }
    if (x->request == z->request) ++sameAcrossSeeds;
  }
  if (sameAcrossSeeds > kCount / 4) {
    return failed(std::to_string(sameAcrossSeeds) + " of " + std::to_string(kCount) +
                  " challenges equal for " + o.seedKey + " 1 and 2");
  }
  return pass(std::to_string(kCount) + " challenges identical for equal seeds, different across seeds");
}

Verdict checkHonest(SubnetPlugin& plugin, const Options& o) {
  auto pair = makePair(plugin, o);
  if (!pair) return failed(pair.error().message());
  double sum = 0, lo = 1;
  for (int i = 0; i < o.rounds; ++i) {
    auto r = honestRound(*pair->miner, *pair->validator);
    if (!r) return failed("round " + std::to_string(i) + ": " + r.error().message());
    sum += r->quality;
    lo = std::min(lo, r->quality);
  }
  const double mean = o.rounds > 0 ? sum / o.rounds : 0;
  if (mean < o.minHonest) {
    return failed("mean quality " + fmt(mean) + " below " + fmt(o.minHonest) + " (--min-honest) over " +
                  std::to_string(o.rounds) + " rounds");
  }
  return pass("mean quality " + fmt(mean) + " (min " + fmt(lo) + ") over " + std::to_string(o.rounds) +
              " rounds, all in [0, 1]");
}

Verdict checkWrong(SubnetPlugin& plugin, const Options& o) {
  auto pair = makePair(plugin, o);
  if (!pair) return failed(pair.error().message());
  std::unique_ptr<SubnetInstance> wrongMiner;
  if (!o.wrongMinerConfig.empty()) {
    auto m = plugin.create(Role::kMiner, o.wrongMinerConfig);
    if (!m) return failed("create(wrong miner): " + m.error().message());
    wrongMiner = std::move(*m);
  }
  double sum = 0;
  for (int i = 0; i < o.rounds; ++i) {
    Bytes wrong;
    Bytes expectation;
    if (wrongMiner) {
      auto r = honestRound(*wrongMiner, *pair->validator);
      if (!r) return failed("round " + std::to_string(i) + " (wrong miner): " + r.error().message());
      sum += r->quality;
      continue;
    }
    auto r = honestRound(*pair->miner, *pair->validator);
    if (!r) return failed("round " + std::to_string(i) + ": " + r.error().message());
    wrong = r->response;
    for (auto& b : wrong) b = ~b;  // every bit flipped: the same size, the wrong content
    if (wrong.empty()) wrong.push_back(std::byte{0xff});
    auto q = pair->validator->scoreResponse(r->challenge.expectation, wrong);
    if (!q) return failed("score_response on a corrupted answer: " + q.error().message());
    if (!(*q >= 0.0 && *q <= 1.0)) return failed("quality " + fmt(*q) + " outside [0, 1]");
    sum += *q;
  }
  const double mean = o.rounds > 0 ? sum / o.rounds : 0;
  const std::string what = wrongMiner ? "the wrong miner's answers" : "corrupted answers (every bit flipped)";
  if (mean > o.maxWrong) {
    return failed(what + " score " + fmt(mean) + " on average, above " + fmt(o.maxWrong) + " (--max-wrong)");
  }
  return pass(what + " score " + fmt(mean) + " on average");
}

// Deterministic malformed inputs derived from a real one.
std::vector<Bytes> fuzzInputs(const Bytes& real, int count, std::mt19937_64& rng) {
  std::vector<Bytes> cases;
  cases.push_back({});
  cases.push_back(Bytes(1, std::byte{0}));
  cases.push_back(Bytes(real.size(), std::byte{0xff}));
  cases.push_back(Bytes(16u << 20, std::byte{0}));  // huge
  {
    Bytes huge(4u << 20);
    for (auto& b : huge) b = static_cast<std::byte>(rng());
    cases.push_back(std::move(huge));
  }
  while (static_cast<int>(cases.size()) < count) {
    Bytes b;
    switch (rng() % 4) {
      case 0: {  // random bytes of a random length
        b.resize(rng() % 4096);
        for (auto& x : b) x = static_cast<std::byte>(rng());
        break;
      }
      case 1:  // truncated
        b.assign(real.begin(),
                 real.begin() + static_cast<std::ptrdiff_t>(real.empty() ? 0 : rng() % real.size()));
        break;
      case 2: {  // extended
        b = real;
        const std::size_t extra = 1 + rng() % 64;
        for (std::size_t i = 0; i < extra; ++i) b.push_back(static_cast<std::byte>(rng()));
        break;
      }
      default: {  // bit flips
        b = real;
        if (b.empty()) b.push_back(std::byte{1});
        const std::size_t flips = 1 + rng() % 8;
        for (std::size_t i = 0; i < flips; ++i)
          b[rng() % b.size()] ^= static_cast<std::byte>(1u << (rng() % 8));
        break;
      }
    }
    cases.push_back(std::move(b));
  }
  return cases;
}

Verdict checkFuzzScore(SubnetPlugin& plugin, const Options& o) {
  auto pair = makePair(plugin, o);
  if (!pair) return failed(pair.error().message());
  std::mt19937_64 rng(1);
  std::vector<Round> rounds;
  for (int i = 0; i < 4; ++i) {
    auto r = honestRound(*pair->miner, *pair->validator);
    if (!r) return failed(r.error().message());
    rounds.push_back(std::move(*r));
  }
  const auto cases = fuzzInputs(rounds.front().response, o.fuzzCases, rng);
  std::size_t rssMid = 0;
  double slowest = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (i == cases.size() / 2) rssMid = rssBytes();
    const Round& r = rounds[i % rounds.size()];
    const auto t = Clock::now();
    auto q = pair->validator->scoreResponse(r.challenge.expectation, cases[i]);
    const double ms = msSince(t);
    slowest = std::max(slowest, ms);
    const std::string what =
        "fuzzed response " + std::to_string(i) + " (" + std::to_string(cases[i].size()) + " bytes)";
    if (!q) {
      return failed(what + ": score_response failed (" + q.error().message() +
                    "); a malformed response must score 0 with OK");
    }
    if (!(*q >= 0.0 && *q <= 1.0)) return failed(what + ": quality " + fmt(*q) + " outside [0, 1]");
    if (ms > o.maxCallS * 1000) return failed(what + ": took " + fmt(ms, 0) + " ms");
  }
  // A second pass over the same cases: memory that grows again is leaked per call.
  const std::size_t rssBefore = rssMid;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    (void)pair->validator->scoreResponse(rounds[i % rounds.size()].challenge.expectation, cases[i]);
  }
  const std::size_t rssAfter = rssBytes();
  const double growthMiB = rssAfter > rssBefore ? static_cast<double>(rssAfter - rssBefore) / (1 << 20) : 0.0;
  if (growthMiB > static_cast<double>(o.maxRssGrowthMiB)) {
    return failed("RSS grew by " + fmt(growthMiB, 1) + " MiB while scoring fuzzed responses (a leak?)");
  }
  return pass(std::to_string(2 * cases.size()) +
              " fuzzed responses (empty, random, truncated, extended, "
              "bit-flipped, 4 and 16 MiB) scored in [0, 1]; slowest " +
              fmt(slowest, 1) + " ms; RSS growth " + fmt(growthMiB, 1) + " MiB");
}

Verdict checkFuzzServe(SubnetPlugin& plugin, const Options& o) {
  auto pair = makePair(plugin, o);
  if (!pair) return failed(pair.error().message());
  std::mt19937_64 rng(2);
  auto real = pair->validator->makeChallenge();
  if (!real) return failed("make_challenge: " + real.error().message());
  const auto cases = fuzzInputs(real->request, std::max(8, o.fuzzCases / 4), rng);
  double slowest = 0;
  int refused = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    // Each fuzzed request travels in a batch with a real one, which must still be answered.
    auto challenge = pair->validator->makeChallenge();
    if (!challenge) return failed("make_challenge: " + challenge.error().message());
    const ByteView batch[2] = {ByteView(cases[i]), ByteView(challenge->request)};
    const auto t = Clock::now();
    auto replies = pair->miner->handleBatch(batch);
    const double ms = msSince(t);
    slowest = std::max(slowest, ms);
    const std::string what =
        "fuzzed request " + std::to_string(i) + " (" + std::to_string(cases[i].size()) + " bytes)";
    if (!replies) return failed(what + " failed the whole batch: " + replies.error().message());
    if (replies->size() != 2) return failed(what + ": not one reply per request");
    if ((*replies)[0].status != RequestStatus::kOk) ++refused;
    if ((*replies)[1].status != RequestStatus::kOk) {
      return failed(what + ": the real request beside it was answered " +
                    std::string(requestStatusName((*replies)[1].status)));
    }
    if (ms > o.maxCallS * 1000) return failed(what + ": the batch took " + fmt(ms, 0) + " ms");
  }
  return pass(std::to_string(cases.size()) + " fuzzed requests served beside real ones (" +
              std::to_string(refused) + " refused); slowest batch " + fmt(slowest, 1) + " ms");
}

Verdict checkConcurrency(SubnetPlugin& plugin, const Options& o) {
  if ((plugin.flags() & MERIT_SUBNET_FLAG_SERIAL) != 0) {
    return skipped("the plugin sets MERIT_SUBNET_FLAG_SERIAL: hosts never overlap calls on an instance");
  }
  auto pair = makePair(plugin, o);
  if (!pair) return failed(pair.error().message());
  const int perThread = std::max(5, o.rounds / 2);
  std::atomic<int> errors{0};
  std::vector<double> sums(static_cast<std::size_t>(o.threads), 0.0);
  std::vector<std::string> firstError(static_cast<std::size_t>(o.threads));
  {
    // The threads start their rounds together, so their calls overlap from the first one even
    // when starting a thread takes longer than a round.
    std::latch start(o.threads);
    std::vector<std::jthread> threads;
    threads.reserve(static_cast<std::size_t>(o.threads));
    for (int t = 0; t < o.threads; ++t) {
      threads.emplace_back([&pair, &errors, &sums, &firstError, &start, perThread, t] {
        start.arrive_and_wait();
        for (int i = 0; i < perThread; ++i) {
          auto r = honestRound(*pair->miner, *pair->validator);
          if (!r) {
            ++errors;
            if (firstError[static_cast<std::size_t>(t)].empty())
              firstError[static_cast<std::size_t>(t)] = r.error().message();
            continue;
          }
          sums[static_cast<std::size_t>(t)] += r->quality;
        }
      });
    }
  }
  if (errors > 0) {
    for (const auto& e : firstError) {
      if (!e.empty()) return failed(std::to_string(errors.load()) + " concurrent rounds failed, e.g. " + e);
    }
  }
  double total = 0;
  for (double s : sums) total += s;
  const double mean = total / (o.threads * perThread);
  if (mean < o.minHonest) {
    return failed("mean quality " + fmt(mean) + " with " + std::to_string(o.threads) +
                  " threads, below --min-honest " + fmt(o.minHonest));
  }
  return pass(std::to_string(o.threads) + " threads x " + std::to_string(perThread) +
              " rounds on shared instances, mean quality " + fmt(mean));
}

Verdict checkTimings(SubnetPlugin& plugin, const Options& o) {
  auto pair = makePair(plugin, o);
  if (!pair) return failed(pair.error().message());
  std::vector<double> c, s, q;
  for (int i = 0; i <= o.rounds; ++i) {
    auto r = honestRound(*pair->miner, *pair->validator);
    if (!r) return failed(r.error().message());
    if (i == 0) continue;  // warm-up
    c.push_back(r->challengeMs);
    s.push_back(r->serveMs);
    q.push_back(r->scoreMs);
  }
  const double mc = median(c), ms = median(s), mq = median(q);
  const std::string text = "median challenge " + fmt(mc, 2) + " ms (budget " + fmt(o.budgets.challengeMs, 0) +
                           "), serve " + fmt(ms, 2) + " ms (budget " + fmt(o.budgets.serveMs, 0) +
                           "), score " + fmt(mq, 2) + " ms (budget " + fmt(o.budgets.scoreMs, 0) + ")";
  if (mc > o.budgets.challengeMs || ms > o.budgets.serveMs || mq > o.budgets.scoreMs) {
    return failed(text + ": over budget");
  }
  return pass(text);
}

}  // namespace

bool Report::passed() const {
  return std::none_of(checks.begin(), checks.end(),
                      [](const CheckResult& c) { return c.outcome == Outcome::kFail; });
}

void addOptions(CLI::App& app, Options& o, ConfigFiles& files) {
  app.add_option("--subnet-path", o.subnetPath, "Directory to search first for a plugin name (repeatable)");
  app.add_option("--config", files.config, "Plugin YAML config file for both roles");
  app.add_option("--miner-config", files.minerConfig, "Plugin YAML config file for the honest miner");
  app.add_option("--validator-config", files.validatorConfig, "Plugin YAML config file for the validator");
  app.add_option("--wrong-miner-config", files.wrongMinerConfig,
                 "Plugin YAML config file of a miner that answers wrongly (default: corrupt honest answers)");
  app.add_option("--rounds", o.rounds, "Honest rounds per check")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--min-honest", o.minHonest, "The honest miner's mean quality must reach this")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--max-wrong", o.maxWrong, "A wrong answer's mean quality must not exceed this")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--fuzz-cases", o.fuzzCases, "Fuzzed responses per pass")
      ->check(CLI::Range(8, 100000))
      ->capture_default_str();
  app.add_option("--threads", o.threads, "Concurrent callers")
      ->check(CLI::Range(2, 64))
      ->capture_default_str();
  app.add_option("--seed-key", o.seedKey, "Validator config key that seeds challenges")
      ->capture_default_str();
  app.add_option("--check-timeout", o.checkTimeoutS, "Seconds per check before it counts as a hang")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  app.add_option("--budget-challenge-ms", o.budgets.challengeMs, "Median make_challenge budget")
      ->capture_default_str();
  app.add_option("--budget-serve-ms", o.budgets.serveMs, "Median handle_batch budget (one request)")
      ->capture_default_str();
  app.add_option("--budget-score-ms", o.budgets.scoreMs, "Median score_response budget")
      ->capture_default_str();
}

namespace {

// conformance.yaml of a project directory, under the command line's explicit options.
bool applyProjectFile(const CLI::App& app, ConfigFiles& files, Options& o) {
  std::error_code ec;
  if (!fs::is_directory(o.plugin, ec)) return true;
  const fs::path dir(o.plugin);
  const fs::path file = dir / "conformance.yaml";
  if (!fs::exists(file, ec)) return true;
  const auto unset = [&app](const char* option) { return app.get_option(option)->count() == 0; };
  try {
    const YAML::Node root = YAML::LoadFile(file.string());
    if (root.IsNull()) return true;
    if (!root.IsMap()) throw std::runtime_error("must be a mapping");
    const auto number = [](const YAML::Node& v, const std::string& key, double lo, double hi) {
      const double d = v.as<double>();
      if (!(d >= lo && d <= hi))
        throw std::runtime_error(key + ": must be in " + fmt(lo, 0) + ".." + fmt(hi, 0));
      return d;
    };
    for (const auto& entry : root) {
      const std::string key = entry.first.as<std::string>();
      const YAML::Node& v = entry.second;
      const auto path = [&dir, &v] { return (dir / v.as<std::string>()).string(); };
      if (key == "budgets") {
        if (!v.IsMap()) throw std::runtime_error("budgets: must be a mapping");
        for (const auto& b : v) {
          const std::string name = b.first.as<std::string>();
          const double ms = number(b.second, "budgets." + name, 0, 3'600'000);
          if (name == "challenge_ms") {
            if (unset("--budget-challenge-ms")) o.budgets.challengeMs = ms;
          } else if (name == "serve_ms") {
            if (unset("--budget-serve-ms")) o.budgets.serveMs = ms;
          } else if (name == "score_ms") {
            if (unset("--budget-score-ms")) o.budgets.scoreMs = ms;
          } else {
            throw std::runtime_error("budgets." + name + ": unknown key (challenge_ms, serve_ms, score_ms)");
          }
        }
      } else if (key == "min_honest") {
        if (unset("--min-honest")) o.minHonest = number(v, key, 0, 1);
      } else if (key == "max_wrong") {
        if (unset("--max-wrong")) o.maxWrong = number(v, key, 0, 1);
      } else if (key == "rounds") {
        if (unset("--rounds")) o.rounds = static_cast<int>(number(v, key, 1, 100000));
      } else if (key == "plugin") {
        // The plugin to check instead of the project's own build/subnets/*.so: a name on the search
        // path (a Python project names the python host) or a .so path, relative to the directory.
        const std::string plugin = v.as<std::string>();
        if (plugin.empty()) throw std::runtime_error("plugin: must be a plugin name or a path to a .so");
        const bool isPath = plugin.find('/') != std::string::npos || fs::path(plugin).extension() == ".so";
        o.plugin = isPath ? (dir / plugin).string() : plugin;
      } else if (key == "config") {
        if (unset("--config")) files.config = path();
      } else if (key == "miner_config") {
        if (unset("--miner-config")) files.minerConfig = path();
      } else if (key == "validator_config") {
        if (unset("--validator-config")) files.validatorConfig = path();
      } else if (key == "wrong_miner_config") {
        if (unset("--wrong-miner-config")) files.wrongMinerConfig = path();
      } else {
        throw std::runtime_error(key +
                                 ": unknown key (plugin, budgets, min_honest, max_wrong, rounds, config, "
                                 "miner_config, validator_config, wrong_miner_config)");
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s: %s\n", file.string().c_str(), e.what());
    return false;
  }
  return true;
}

}  // namespace

bool loadConfigFiles(const CLI::App& app, ConfigFiles& files, Options& o) {
  if (!applyProjectFile(app, files, o)) return false;
  const std::pair<const std::string*, std::string*> all[] = {{&files.config, &o.config},
                                                             {&files.minerConfig, &o.minerConfig},
                                                             {&files.validatorConfig, &o.validatorConfig},
                                                             {&files.wrongMinerConfig, &o.wrongMinerConfig}};
  for (const auto& [path, text] : all) {
    if (path->empty()) continue;
    auto read = readFile(*path, 1 << 20);
    if (!read) {
      std::fprintf(stderr, "error: cannot read %s: %s\n", path->c_str(), read.error().message().c_str());
      return false;
    }
    *text = *read;
  }
  return true;
}

Report run(const Options& options) {
  Report report;
  report.plugin = options.plugin;
  auto resolved = resolvePlugin(options.plugin);
  if (!resolved) {
    report.checks.push_back({"load", Outcome::kFail, resolved.error().message(), 0});
    return report;
  }
  const auto start = Clock::now();
  auto loaded = SubnetPlugin::find(*resolved, options.subnetPath);
  if (!loaded) {
    report.checks.push_back({"load", Outcome::kFail, loaded.error().message(), 0});
    return report;
  }
  SubnetPlugin& plugin = **loaded;
  report.path = plugin.path().string();
  report.name = plugin.name();
  report.version = plugin.version();
  const double loadS = std::chrono::duration<double>(Clock::now() - start).count();
  const Verdict abi = checkAbi(plugin);
  report.checks.push_back({"abi", abi.outcome, abi.reason, loadS});
  if (abi.outcome == Outcome::kFail) return report;

  using Body = Verdict (*)(SubnetPlugin&, const Options&);
  const std::pair<const char*, Body> checks[] = {
      {"create", &checkCreate},
      {"challenge_distinct", &checkDistinct},
      {"challenge_seeded", &checkSeeded},
      {"honest", &checkHonest},
      {"wrong", &checkWrong},
      {"fuzz_score", &checkFuzzScore},
      {"fuzz_serve", &checkFuzzServe},
      {"concurrency", &checkConcurrency},
      {"timings", &checkTimings},
  };
  for (const auto& [name, body] : checks) {
    report.checks.push_back(isolated(name, options.checkTimeoutS,
                                     [&plugin, &options, body = body] { return body(plugin, options); }));
  }
  return report;
}

std::string formatText(const Report& report) {
  std::string out = "plugin " + (report.name.empty() ? report.plugin : report.name);
  if (!report.path.empty()) out += " version " + std::to_string(report.version) + " from " + report.path;
  out += "\n";
  int failures = 0;
  for (const auto& c : report.checks) {
    const char* tag = c.outcome == Outcome::kPass ? "PASS" : c.outcome == Outcome::kSkip ? "SKIP" : "FAIL";
    if (c.outcome == Outcome::kFail) ++failures;
    char line[96];
    std::snprintf(line, sizeof line, "%s %-19s ", tag, c.name.c_str());
    out += line + c.reason + " [" + fmt(c.seconds, 2) + " s]\n";
  }
  out += report.passed() ? "conformance: PASS (" + std::to_string(report.checks.size()) + " checks)\n"
                         : "conformance: FAIL (" + std::to_string(failures) + " of " +
                               std::to_string(report.checks.size()) + " checks failed)\n";
  return out;
}

std::string formatJson(const Report& report) {
  nlohmann::json j;
  j["plugin"] = report.plugin;
  j["path"] = report.path;
  j["name"] = report.name;
  j["version"] = report.version;
  j["passed"] = report.passed();
  j["checks"] = nlohmann::json::array();
  for (const auto& c : report.checks) {
    j["checks"].push_back({{"name", c.name},
                           {"outcome", c.outcome == Outcome::kPass   ? "pass"
                                       : c.outcome == Outcome::kSkip ? "skip"
                                                                     : "fail"},
                           {"reason", c.reason},
                           {"seconds", c.seconds}});
  }
  return j.dump(2) + "\n";
}

}  // namespace merit::subnet::conformance
