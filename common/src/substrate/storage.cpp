#include "merit/substrate/storage.h"

#include <algorithm>

#include "merit/substrate/hashing.h"
#include "merit/substrate/value.h"

namespace merit::substrate {

using nlohmann::json;

namespace {

struct EntryRef {
  const Pallet* pallet;
  const StorageEntry* entry;
  std::vector<TypeId> keyTypes;  // one per hasher
};

Result<EntryRef> findEntry(const Metadata& md, std::string_view pallet, std::string_view item) {
  const Pallet* p = md.pallet(pallet);
  if (!p) return fail(ErrorCode::kNotFound, "the runtime has no pallet " + std::string(pallet));
  const StorageEntry* e = p->storageEntry(item);
  if (!e)
    return fail(ErrorCode::kNotFound, "pallet " + p->name + " has no storage item " + std::string(item));
  EntryRef ref{p, e, {}};
  if (e->isMap && e->keyType) {
    if (e->hashers.size() == 1) {
      ref.keyTypes.push_back(*e->keyType);
    } else {
      const TypeInfo* t = md.registry().get(*e->keyType);
      auto* tuple = t ? std::get_if<TupleDef>(&t->def) : nullptr;
      if (!tuple || tuple->types.size() != e->hashers.size()) {
        return fail(ErrorCode::kCorruption, p->name + "." + e->name + ": " +
                                                std::to_string(e->hashers.size()) + " hashers but key type " +
                                                md.registry().displayName(*e->keyType));
      }
      ref.keyTypes = tuple->types;
    }
  }
  return ref;
}

}  // namespace

Result<Bytes> storageKey(const Metadata& md, std::string_view pallet, std::string_view item,
                         const json& keys) {
  MERIT_ASSIGN_OR_RETURN(EntryRef ref, findEntry(md, pallet, item));
  std::string name = ref.pallet->name + "." + ref.entry->name;
  json list = keys.is_array() ? keys : json::array({keys});
  if (list.size() > ref.keyTypes.size()) {
    return fail(ErrorCode::kInvalidArgument, name + " takes " + std::to_string(ref.keyTypes.size()) +
                                                 " key(s), got " + std::to_string(list.size()));
  }
  Bytes out = storagePrefix(ref.pallet->storagePrefix, ref.entry->name);
  for (std::size_t i = 0; i < list.size(); ++i) {
    MERIT_ASSIGN_OR_RETURN(Bytes encoded, encodeValue(md.registry(), ref.keyTypes[i], list[i],
                                                      name + " key " + std::to_string(i + 1)));
    append(out, hashKey(ref.entry->hashers[i], encoded));
  }
  return out;
}

Result<json> decodeStorageKey(const Metadata& md, std::string_view pallet, std::string_view item,
                              ByteView fullKey) {
  MERIT_ASSIGN_OR_RETURN(EntryRef ref, findEntry(md, pallet, item));
  Bytes prefix = storagePrefix(ref.pallet->storagePrefix, ref.entry->name);
  std::string name = ref.pallet->name + "." + ref.entry->name;
  if (fullKey.size() < prefix.size() || !std::equal(prefix.begin(), prefix.end(), fullKey.begin())) {
    return fail(ErrorCode::kInvalidArgument, "not a key of " + name);
  }
  ScaleReader r(fullKey.subspan(prefix.size()));
  json out = json::array();
  for (std::size_t i = 0; i < ref.keyTypes.size(); ++i) {
    Hasher h = ref.entry->hashers[i];
    auto skipped = r.take(hasherPrefixSize(h));
    if (!skipped) return fail(skipped.error().withContext(name + " key " + std::to_string(i + 1)));
    if (!hasherIsConcat(h)) {
      out.push_back(nullptr);
      continue;
    }
    auto v = decodeValue(md.registry(), ref.keyTypes[i], r);
    if (!v) return fail(v.error().withContext(name + " key " + std::to_string(i + 1)));
    out.push_back(std::move(*v));
  }
  if (!r.atEnd())
    return fail(ErrorCode::kInvalidArgument,
                std::to_string(r.remaining()) + " extra bytes in a key of " + name);
  return out;
}

Result<json> decodeStorageValue(const Metadata& md, std::string_view pallet, std::string_view item,
                                const Bytes* raw) {
  MERIT_ASSIGN_OR_RETURN(EntryRef ref, findEntry(md, pallet, item));
  std::string name = ref.pallet->name + "." + ref.entry->name;
  if (!raw) {
    if (ref.entry->modifier == StorageModifier::kOptional) return json(nullptr);
    auto v = decodeValue(md.registry(), ref.entry->valueType, ref.entry->defaultValue);
    if (!v) return fail(v.error().withContext(name + " default"));
    return v;
  }
  auto v = decodeValue(md.registry(), ref.entry->valueType, *raw);
  if (!v) return fail(v.error().withContext(name));
  return v;
}

namespace {
Result<const RuntimeApiMethod*> findMethod(const Metadata& md, std::string_view api,
                                           std::string_view method) {
  if (md.runtimeApis().empty()) {
    return fail(ErrorCode::kNotFound,
                "metadata v" + std::to_string(md.version()) + " does not describe runtime APIs (v15 does)");
  }
  const RuntimeApiMethod* m = md.runtimeApiMethod(api, method);
  if (!m)
    return fail(ErrorCode::kNotFound,
                "the runtime has no API method " + std::string(api) + "_" + std::string(method));
  return m;
}
}  // namespace

Result<RuntimeApiCall> encodeRuntimeApiCall(const Metadata& md, std::string_view api, std::string_view method,
                                            const json& args) {
  MERIT_ASSIGN_OR_RETURN(const RuntimeApiMethod* m, findMethod(md, api, method));
  RuntimeApiCall call;
  call.method = std::string(api) + "_" + std::string(method);
  ScaleWriter w;
  const std::size_t n = m->inputs.size();
  if (args.is_object()) {
    for (auto it = args.begin(); it != args.end(); ++it) {
      bool known =
          std::any_of(m->inputs.begin(), m->inputs.end(), [&](const auto& p) { return p.name == it.key(); });
      if (!known)
        return fail(ErrorCode::kInvalidArgument, call.method + ": unknown parameter \"" + it.key() + "\"");
    }
    for (const auto& p : m->inputs) {
      auto it = args.find(p.name);
      if (it == args.end())
        return fail(ErrorCode::kInvalidArgument, call.method + ": missing parameter \"" + p.name + "\"");
      MERIT_TRY(encodeValue(md.registry(), p.type, *it, w, call.method + "." + p.name));
    }
  } else if (args.is_array() || args.is_null()) {
    std::size_t given = args.is_null() ? 0 : args.size();
    if (given != n) {
      return fail(ErrorCode::kInvalidArgument, call.method + " takes " + std::to_string(n) +
                                                   " parameter(s), got " + std::to_string(given));
    }
    for (std::size_t i = 0; i < n; ++i) {
      MERIT_TRY(
          encodeValue(md.registry(), m->inputs[i].type, args[i], w, call.method + "." + m->inputs[i].name));
    }
  } else {
    return fail(ErrorCode::kInvalidArgument, call.method + ": parameters must be an object or an array");
  }
  call.args = w.take();
  return call;
}

Result<json> decodeRuntimeApiResult(const Metadata& md, std::string_view api, std::string_view method,
                                    ByteView result) {
  MERIT_ASSIGN_OR_RETURN(const RuntimeApiMethod* m, findMethod(md, api, method));
  auto v = decodeValue(md.registry(), m->output, result);
  if (!v) return fail(v.error().withContext(std::string(api) + "_" + std::string(method) + " result"));
  return v;
}

}  // namespace merit::substrate
