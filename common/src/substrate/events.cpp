#include "merit/substrate/events.h"

#include "merit/substrate/value.h"

namespace merit::substrate {

using nlohmann::json;

Result<std::vector<EventRecord>> decodeEvents(const Metadata& md, ByteView eventsValue) {
  if (eventsValue.empty()) return std::vector<EventRecord>{};
  const StorageEntry* entry = md.storage("System", "Events");
  if (!entry) return fail(ErrorCode::kNotFound, "the runtime has no System.Events storage");
  auto decoded = decodeValue(md.registry(), entry->valueType, eventsValue);
  if (!decoded) return fail(decoded.error().withContext("System.Events"));
  if (!decoded->is_array()) return fail(ErrorCode::kInvalidArgument, "System.Events is not a sequence");
  auto shapeError = [](std::size_t i, const std::string& what) {
    return fail(ErrorCode::kInvalidArgument, "System.Events[" + std::to_string(i) + "]: " + what);
  };
  std::vector<EventRecord> out;
  out.reserve(decoded->size());
  for (std::size_t i = 0; i < decoded->size(); ++i) {
    const json& rec = (*decoded)[i];
    if (!rec.is_object() || !rec.contains("phase") || !rec.contains("event")) {
      return shapeError(i, "not an EventRecord {phase, event, topics}");
    }
    EventRecord e;
    const json& phase = rec["phase"];
    if (phase.is_string()) {
      e.phase = phase.get<std::string>();
    } else if (phase.is_object() && phase.size() == 1) {
      e.phase = phase.begin().key();
      if (phase.begin()->is_number_unsigned()) e.extrinsicIndex = phase.begin()->get<std::uint32_t>();
    } else {
      return shapeError(i, "unexpected phase " + phase.dump());
    }
    // RuntimeEvent::<Pallet>(<Pallet>::Event::<Name> { fields }).
    const json& ev = rec["event"];
    if (!ev.is_object() || ev.size() != 1) return shapeError(i, "unexpected event shape");
    e.pallet = ev.begin().key();
    const json& inner = ev.begin().value();
    if (inner.is_string()) {
      e.name = inner.get<std::string>();
    } else if (inner.is_object() && inner.size() == 1) {
      e.name = inner.begin().key();
      e.fields = inner.begin().value();
    } else {
      return shapeError(i, "unexpected event shape in pallet " + e.pallet);
    }
    if (rec.contains("topics") && rec["topics"].is_array()) {
      for (const auto& t : rec["topics"]) {
        if (t.is_string()) e.topics.push_back(t.get<std::string>());
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::string> dispatchErrorName(const Metadata& md, const json& err) {
  if (err.is_string()) return err.get<std::string>();
  if (!err.is_object() || err.size() != 1) {
    return fail(ErrorCode::kInvalidArgument, "not a DispatchError: " + err.dump().substr(0, 100));
  }
  const std::string& kind = err.begin().key();
  const json& payload = err.begin().value();
  if (kind == "Module") {
    if (!payload.is_object() || !payload.contains("index") || !payload.contains("error") ||
        !payload["index"].is_number_integer()) {
      return fail(ErrorCode::kInvalidArgument,
                  "malformed DispatchError::Module: " + payload.dump().substr(0, 100));
    }
    std::int64_t pallet = payload["index"].get<std::int64_t>();
    std::int64_t index = 0;
    const json& e = payload["error"];
    if (e.is_string()) {
      auto bytes = fromHex(e.get<std::string>());
      if (!bytes || bytes->empty()) return fail(ErrorCode::kInvalidArgument, "malformed module error bytes");
      index = std::to_integer<std::int64_t>((*bytes)[0]);
    } else if (e.is_number_integer()) {
      index = e.get<std::int64_t>();
    } else {
      return fail(ErrorCode::kInvalidArgument, "malformed module error " + e.dump().substr(0, 100));
    }
    if (pallet < 0 || pallet > 255 || index < 0 || index > 255)
      return fail(ErrorCode::kInvalidArgument, "module error index out of range");
    return md.errorName(static_cast<std::uint8_t>(pallet), static_cast<std::uint8_t>(index));
  }
  if (payload.is_string()) return kind + "." + payload.get<std::string>();
  return kind;
}

Result<ExtrinsicOutcome> extrinsicOutcome(const Metadata& md, const std::vector<EventRecord>& events,
                                          std::uint32_t extrinsicIndex) {
  ExtrinsicOutcome out;
  bool found = false;
  for (const auto& e : events) {
    if (e.extrinsicIndex != extrinsicIndex) continue;
    out.events.push_back(&e);
    if (e.pallet != "System") continue;
    if (e.name == "ExtrinsicSuccess") {
      out.success = true;
      found = true;
    } else if (e.name == "ExtrinsicFailed") {
      found = true;
      out.success = false;
      // Named field dispatch_error on current runtimes; older ones had (DispatchError, info).
      if (e.fields.is_object() && e.fields.contains("dispatch_error")) {
        out.dispatchError = e.fields["dispatch_error"];
      } else if (e.fields.is_array() && !e.fields.empty()) {
        out.dispatchError = e.fields[0];
      }
      auto name = dispatchErrorName(md, out.dispatchError);
      out.error = name ? *name : "unknown error " + out.dispatchError.dump().substr(0, 100);
    }
  }
  if (!found) {
    return fail(ErrorCode::kNotFound, "no ExtrinsicSuccess or ExtrinsicFailed event for extrinsic " +
                                          std::to_string(extrinsicIndex));
  }
  return out;
}

}  // namespace merit::substrate
