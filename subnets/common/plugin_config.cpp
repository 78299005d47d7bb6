#include "merit/subnets/plugin_config.h"

#include <charconv>
#include <chrono>
#include <system_error>
#include <thread>

#include <yaml-cpp/yaml.h>

namespace merit::plugin_config {

using subnet_sdk::Role;
using subnet_sdk::Status;
using subnet_sdk::SubnetError;

namespace detail {
struct Node {
  YAML::Node node;
};
}  // namespace detail

namespace {

// The shortest text that reads back as `value` (0, 1, 0.1, 1e-12).
std::string shortest(double value) {
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  return ec == std::errc() ? std::string(text, end) : std::to_string(value);
}

std::string joined(std::initializer_list<std::string_view> items, std::string_view separator) {
  std::string out;
  for (std::string_view item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string joined(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace

void fail(std::string_view subnet, std::string_view key, std::string_view reason) {
  std::string message(subnet);
  message += " config: ";
  if (!key.empty()) {
    message += key;
    message += ": ";
  }
  message += reason;
  throw SubnetError(Status::kInvalidArgument, message);
}

void Value::fail(std::string_view reason) const {
  plugin_config::fail(m_subnet, m_path, reason);
}

std::uint64_t Value::unsignedInt(std::uint64_t min, std::uint64_t max) const {
  const YAML::Node& node = m_node->node;
  if (!node.IsScalar()) fail("must be a number");
  const std::string& text = node.Scalar();
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    fail("'" + text + "' is not a non-negative integer");
  }
  if (value < min || value > max) {
    fail(std::to_string(value) + " is outside " + std::to_string(min) + ".." + std::to_string(max));
  }
  return value;
}

double Value::number(double min, double max) const {
  const YAML::Node& node = m_node->node;
  const std::string range = "[" + shortest(min) + ", " + shortest(max) + "]";
  if (!node.IsScalar()) fail("must be a number in " + range);
  double value = 0;
  if (!YAML::convert<double>::decode(node, value) || !(value >= min && value <= max)) {
    fail("'" + node.Scalar() + "' is not a number in " + range);
  }
  return value;
}

std::string Value::string() const {
  const YAML::Node& node = m_node->node;
  if (!node.IsScalar() || node.Scalar().empty()) fail("must be a non-empty string");
  return node.Scalar();
}

std::size_t Value::oneOf(std::initializer_list<std::string_view> choices) const {
  const YAML::Node& node = m_node->node;
  if (!node.IsScalar()) fail("must be one of " + joined(choices, ", "));
  std::size_t index = 0;
  for (std::string_view choice : choices) {
    if (node.Scalar() == choice) return index;
    ++index;
  }
  fail("'" + node.Scalar() + "' is not one of " + joined(choices, ", "));
}

Map Value::map() const {
  if (!m_node->node.IsMap()) fail("must be a mapping");
  return Map(*this);
}

void Map::read(std::span<const Field> fields) const {
  const std::string prefix = m_value.path().empty() ? std::string() : m_value.path() + ".";
  for (const auto& entry : m_value.m_node->node) {
    const std::string key = entry.first.Scalar();
    const Value value(std::make_shared<const detail::Node>(detail::Node{entry.second}), m_value.subnet(),
                      prefix + key);
    const Field* field = nullptr;
    for (const Field& candidate : fields) {
      if (candidate.key == key) {
        field = &candidate;
        break;
      }
    }
    if (field == nullptr) {
      std::string known;
      for (const Field& candidate : fields) {
        if (!known.empty()) known += ", ";
        known += candidate.key;
      }
      value.fail("unknown key (known: " + known + ")");
    }
    field->read(value);
  }
}

Map parse(std::string_view subnet, std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    fail(subnet, "", "line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) fail(subnet, "", "must be a mapping");
  return Map(Value(std::make_shared<const detail::Node>(detail::Node{root}), std::string(subnet), ""));
}

double Faults::totalRate() const {
  double total = wrongRate;
  for (double rate : extraRates) total += rate;
  return total + dropRate;
}

Faults parseFaults(const Value& section, const FaultSpec& spec) {
  Faults faults;
  faults.extraRates.assign(spec.extraKinds.size(), 0.0);
  std::vector<Field> fields;
  std::vector<std::string> rates;
  if (spec.wrong) {
    fields.push_back({"wrong_rate", [&](const Value& v) { faults.wrongRate = v.rate(); }});
    rates.push_back("wrong_rate");
  }
  for (std::size_t i = 0; i < spec.extraKinds.size(); ++i) {
    fields.push_back({spec.extraKinds[i], [&faults, i](const Value& v) { faults.extraRates[i] = v.rate(); }});
    rates.push_back(spec.extraKinds[i]);
  }
  fields.push_back({"drop_rate", [&](const Value& v) { faults.dropRate = v.rate(); }});
  rates.push_back("drop_rate");
  fields.push_back(
      {"delay_ms", [&](const Value& v) { faults.delayMs = v.integer<std::uint32_t>(0, 600'000); }});
  fields.push_back({"seed", [&](const Value& v) {
                      faults.seed = v.unsignedInt(0, std::numeric_limits<std::uint64_t>::max());
                    }});
  section.map().read(fields);
  if (faults.totalRate() > 1.0) section.fail(joined(rates, " + ") + " must be at most 1");
  return faults;
}

namespace {

std::uint64_t freshSeed() {
  try {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
  } catch (const std::exception& e) {
    throw SubnetError(Status::kInternal, std::string("no random seed for the fault RNG: ") + e.what());
  }
}

}  // namespace

FaultInjector::FaultInjector(Faults faults, Role role)
    : m_faults(std::move(faults)), m_active(role == Role::kMiner && m_faults.totalRate() != 0.0) {
  m_rng.seed(m_faults.seed ? *m_faults.seed : freshSeed());
}

void FaultInjector::delayBatch() const {
  if (m_faults.delayMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(m_faults.delayMs));
}

Fault FaultInjector::decide() {
  if (!m_active) return {};
  double u = 0;
  {
    std::lock_guard lock(m_rngMutex);
    u = std::uniform_real_distribution<double>(0.0, 1.0)(m_rng);
  }
  double edge = m_faults.dropRate;
  if (u < edge) return {Fault::Kind::kDrop, 0};
  for (std::size_t i = 0; i < m_faults.extraRates.size(); ++i) {
    if (u < (edge += m_faults.extraRates[i])) return {Fault::Kind::kExtra, i};
  }
  if (u < (edge += m_faults.wrongRate)) return {Fault::Kind::kWrong, 0};
  return {};
}

std::size_t FaultInjector::uniform(std::size_t lo, std::size_t hi) {
  std::lock_guard lock(m_rngMutex);
  return std::uniform_int_distribution<std::size_t>(lo, hi)(m_rng);
}

}  // namespace merit::plugin_config
