// merit_subnet_config: a plugin's YAML section, read the way the in-tree plugins read theirs. Any
// input must end in a value or a SubnetError(kInvalidArgument) naming the subnet; never another
// exception, a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <string>
#include <string_view>

#include "merit/subnets/plugin_config.h"

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz_plugin_config: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace cfg = merit::plugin_config;
  using merit::subnet_sdk::Role;
  using merit::subnet_sdk::Status;
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  const cfg::FaultSpec spec{.wrong = true, .extraKinds = {"garbage_rate", "zero_rate"}};
  try {
    cfg::Faults faults;
    std::uint32_t count = 0;
    double ratio = 0;
    std::string name;
    std::size_t mode = 0;
    cfg::parse("fuzz", yaml)
        .read({
            {"count", [&](const cfg::Value& v) { count = v.integer<std::uint32_t>(1, 1000); }},
            {"ratio", [&](const cfg::Value& v) { ratio = v.number(1e-12, 0.1); }},
            {"name", [&](const cfg::Value& v) { name = v.string(); }},
            {"mode",
             [&](const cfg::Value& v) {
               mode = v.oneOf({"a", "b"});
             }},
            {"seed",
             [&](const cfg::Value& v) { v.unsignedInt(0, std::numeric_limits<std::uint64_t>::max()); }},
            {"nested",
             [&](const cfg::Value& v) {
               v.map().read({{"x", [](const cfg::Value& x) { x.rate(); }}});
             }},
            {"faults", [&](const cfg::Value& v) { faults = cfg::parseFaults(v, spec); }},
        });
    if (count > 1000 || !(ratio == 0 || (ratio >= 1e-12 && ratio <= 0.1)) || mode > 1)
      broken("value out of range");
    if (!(faults.totalRate() <= 1.0)) broken("fault rates above 1 accepted");
    if (faults.delayMs > 600'000) broken("delay_ms out of range");
    faults.delayMs = 0;  // never sleep here
    cfg::FaultInjector injector(faults, Role::kMiner);
    for (int i = 0; i < 4; ++i) {
      const cfg::Fault f = injector.decide();
      if (f.kind == cfg::Fault::Kind::kExtra && f.extra >= spec.extraKinds.size())
        broken("unknown fault kind");
    }
  } catch (const merit::subnet_sdk::SubnetError& e) {
    if (e.status() != Status::kInvalidArgument) broken("a status other than invalid_argument");
    if (std::string_view(e.what()).substr(0, 12) != "fuzz config:") broken("an error not naming the subnet");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_plugin_config: unexpected exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
