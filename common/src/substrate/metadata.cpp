#include "merit/substrate/metadata.h"

#include <algorithm>

namespace merit::substrate {

namespace {

constexpr int kMaxTypeDepth = 64;

Result<std::uint32_t> typeIdOf(ScaleReader& r) {
  MERIT_ASSIGN_OR_RETURN(std::uint64_t v, r.compact());
  if (v > 0xffffffffULL) return fail(ErrorCode::kInvalidArgument, "type id out of range");
  return static_cast<std::uint32_t>(v);
}

Result<void> skipStrings(ScaleReader& r) {
  MERIT_ASSIGN_OR_RETURN(std::uint64_t n, r.length(1));
  for (std::uint64_t i = 0; i < n; ++i) {
    MERIT_ASSIGN_OR_RETURN(std::uint64_t len, r.length(1));
    MERIT_TRY(r.take(static_cast<std::size_t>(len)));
  }
  return {};
}

Result<std::vector<std::string>> readStrings(ScaleReader& r) {
  MERIT_ASSIGN_OR_RETURN(std::uint64_t n, r.length(1));
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(n));
  for (std::uint64_t i = 0; i < n; ++i) {
    MERIT_ASSIGN_OR_RETURN(std::string s, r.str());
    out.push_back(std::move(s));
  }
  return out;
}

Result<bool> optionTag(ScaleReader& r) {
  MERIT_ASSIGN_OR_RETURN(std::uint8_t t, r.u8());
  if (t > 1) return fail(ErrorCode::kInvalidArgument, "Option tag must be 0 or 1, got " + std::to_string(t));
  return t == 1;
}

Result<std::optional<std::string>> optionalString(ScaleReader& r) {
  MERIT_ASSIGN_OR_RETURN(bool some, optionTag(r));
  if (!some) return std::optional<std::string>{};
  MERIT_ASSIGN_OR_RETURN(std::string s, r.str());
  return std::optional<std::string>(std::move(s));
}

Result<std::optional<TypeId>> optionalTypeId(ScaleReader& r) {
  MERIT_ASSIGN_OR_RETURN(bool some, optionTag(r));
  if (!some) return std::optional<TypeId>{};
  MERIT_ASSIGN_OR_RETURN(TypeId t, typeIdOf(r));
  return std::optional<TypeId>(t);
}

Result<std::vector<Field>> readFields(ScaleReader& r) {
  // A field is at least 4 bytes: name tag, type id, type-name tag, docs length.
  MERIT_ASSIGN_OR_RETURN(std::uint64_t n, r.length(4));
  std::vector<Field> fields;
  fields.reserve(static_cast<std::size_t>(n));
  for (std::uint64_t i = 0; i < n; ++i) {
    Field f;
    MERIT_ASSIGN_OR_RETURN(f.name, optionalString(r));
    MERIT_ASSIGN_OR_RETURN(f.type, typeIdOf(r));
    MERIT_ASSIGN_OR_RETURN(f.typeName, optionalString(r));
    MERIT_TRY(skipStrings(r));
    fields.push_back(std::move(f));
  }
  return fields;
}

Result<TypeDef> readTypeDef(ScaleReader& r) {
  MERIT_ASSIGN_OR_RETURN(std::uint8_t tag, r.u8());
  switch (tag) {
    case 0: {
      MERIT_ASSIGN_OR_RETURN(auto fields, readFields(r));
      return TypeDef(CompositeDef{std::move(fields)});
    }
    case 1: {
      MERIT_ASSIGN_OR_RETURN(std::uint64_t n, r.length(4));
      VariantDef def;
      def.variants.reserve(static_cast<std::size_t>(n));
      for (std::uint64_t i = 0; i < n; ++i) {
        Variant v;
        MERIT_ASSIGN_OR_RETURN(v.name, r.str());
        MERIT_ASSIGN_OR_RETURN(v.fields, readFields(r));
        MERIT_ASSIGN_OR_RETURN(v.index, r.u8());
        MERIT_TRY(skipStrings(r));
        def.variants.push_back(std::move(v));
      }
      return TypeDef(std::move(def));
    }
    case 2: {
      MERIT_ASSIGN_OR_RETURN(TypeId t, typeIdOf(r));
      return TypeDef(SequenceDef{t});
    }
    case 3: {
      ArrayDef a;
      MERIT_ASSIGN_OR_RETURN(a.len, r.u32());
      MERIT_ASSIGN_OR_RETURN(a.type, typeIdOf(r));
      return TypeDef(a);
    }
    case 4: {
      MERIT_ASSIGN_OR_RETURN(std::uint64_t n, r.length(1));
      TupleDef t;
      t.types.reserve(static_cast<std::size_t>(n));
      for (std::uint64_t i = 0; i < n; ++i) {
        MERIT_ASSIGN_OR_RETURN(TypeId id, typeIdOf(r));
        t.types.push_back(id);
      }
      return TypeDef(std::move(t));
    }
    case 5: {
      MERIT_ASSIGN_OR_RETURN(std::uint8_t p, r.u8());
      if (p > static_cast<std::uint8_t>(Primitive::kI256)) {
        return fail(ErrorCode::kInvalidArgument, "unknown primitive type tag " + std::to_string(p));
      }
      return TypeDef(PrimitiveDef{static_cast<Primitive>(p)});
    }
    case 6: {
      MERIT_ASSIGN_OR_RETURN(TypeId t, typeIdOf(r));
      return TypeDef(CompactDef{t});
    }
    case 7: {
      BitSequenceDef b;
      MERIT_ASSIGN_OR_RETURN(b.storeType, typeIdOf(r));
      MERIT_ASSIGN_OR_RETURN(b.orderType, typeIdOf(r));
      return TypeDef(b);
    }
    default: return fail(ErrorCode::kInvalidArgument, "unknown type definition tag " + std::to_string(tag));
  }
}

Error dangling(TypeId id, std::string_view where) {
  return Error(ErrorCode::kCorruption, "metadata refers to type id " + std::to_string(id) +
                                           " that is not in the registry (" + std::string(where) + ")");
}

}  // namespace

std::string_view primitiveName(Primitive p) {
  static constexpr std::string_view kNames[] = {"bool", "char", "str", "u8",  "u16", "u32",  "u64", "u128",
                                                "u256", "i8",   "i16", "i32", "i64", "i128", "i256"};
  auto i = static_cast<std::size_t>(p);
  return i < std::size(kNames) ? kNames[i] : "?";
}

std::size_t primitiveWidth(Primitive p) {
  switch (p) {
    case Primitive::kBool:
    case Primitive::kU8:
    case Primitive::kI8: return 1;
    case Primitive::kU16:
    case Primitive::kI16: return 2;
    case Primitive::kU32:
    case Primitive::kI32:
    case Primitive::kChar: return 4;
    case Primitive::kU64:
    case Primitive::kI64: return 8;
    case Primitive::kU128:
    case Primitive::kI128: return 16;
    case Primitive::kU256:
    case Primitive::kI256: return 32;
    default: return 0;
  }
}

const Variant* VariantDef::byName(std::string_view name) const {
  for (const auto& v : variants) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

const Variant* VariantDef::byIndex(std::uint8_t index) const {
  for (const auto& v : variants) {
    if (v.index == index) return &v;
  }
  return nullptr;
}

std::string TypeInfo::pathString() const {
  std::string out;
  for (const auto& seg : path) {
    if (!out.empty()) out += "::";
    out += seg;
  }
  return out;
}

std::string_view TypeInfo::shortName() const {
  return path.empty() ? std::string_view{} : path.back();
}

std::optional<TypeId> TypeInfo::param(std::string_view name) const {
  for (const auto& p : params) {
    if (p.name == name) return p.type;
  }
  return std::nullopt;
}

Result<TypeRegistry> TypeRegistry::decode(ScaleReader& r) {
  // Each portable type is at least 5 bytes (id, path, params, def tag, docs).
  MERIT_ASSIGN_OR_RETURN(std::uint64_t n, r.length(5));
  TypeRegistry reg;
  reg.m_types.reserve(static_cast<std::size_t>(n));
  for (std::uint64_t i = 0; i < n; ++i) {
    TypeInfo t;
    MERIT_ASSIGN_OR_RETURN(t.id, typeIdOf(r));
    if (t.id != i) {
      return fail(ErrorCode::kCorruption, "type registry ids are not sequential: entry " + std::to_string(i) +
                                              " has id " + std::to_string(t.id));
    }
    MERIT_ASSIGN_OR_RETURN(t.path, readStrings(r));
    MERIT_ASSIGN_OR_RETURN(std::uint64_t np, r.length(2));
    t.params.reserve(static_cast<std::size_t>(np));
    for (std::uint64_t k = 0; k < np; ++k) {
      TypeParam p;
      MERIT_ASSIGN_OR_RETURN(p.name, r.str());
      MERIT_ASSIGN_OR_RETURN(p.type, optionalTypeId(r));
      t.params.push_back(std::move(p));
    }
    MERIT_ASSIGN_OR_RETURN(t.def, readTypeDef(r));
    MERIT_TRY(skipStrings(r));
    reg.m_types.push_back(std::move(t));
  }
  // Every reference must resolve, so users of the registry only meet ids that exist.
  auto ok = [&](TypeId id) { return id < reg.m_types.size(); };
  for (const auto& t : reg.m_types) {
    std::string where = "type " + std::to_string(t.id);
    for (const auto& p : t.params) {
      if (p.type && !ok(*p.type)) return fail(dangling(*p.type, where));
    }
    auto checkFields = [&](const std::vector<Field>& fs) -> Result<void> {
      for (const auto& f : fs) {
        if (!ok(f.type)) return fail(dangling(f.type, where));
      }
      return {};
    };
    if (auto* c = std::get_if<CompositeDef>(&t.def)) {
      MERIT_TRY(checkFields(c->fields));
    } else if (auto* v = std::get_if<VariantDef>(&t.def)) {
      for (const auto& var : v->variants) MERIT_TRY(checkFields(var.fields));
    } else if (auto* s = std::get_if<SequenceDef>(&t.def)) {
      if (!ok(s->type)) return fail(dangling(s->type, where));
    } else if (auto* a = std::get_if<ArrayDef>(&t.def)) {
      if (!ok(a->type)) return fail(dangling(a->type, where));
    } else if (auto* tu = std::get_if<TupleDef>(&t.def)) {
      for (TypeId id : tu->types) {
        if (!ok(id)) return fail(dangling(id, where));
      }
    } else if (auto* cp = std::get_if<CompactDef>(&t.def)) {
      if (!ok(cp->type)) return fail(dangling(cp->type, where));
    } else if (auto* b = std::get_if<BitSequenceDef>(&t.def)) {
      if (!ok(b->storeType)) return fail(dangling(b->storeType, where));
      if (!ok(b->orderType)) return fail(dangling(b->orderType, where));
    }
  }
  return reg;
}

std::string TypeRegistry::displayName(TypeId id) const {
  return displayName(id, 0);
}

std::string TypeRegistry::displayName(TypeId id, int depth) const {
  const TypeInfo* t = get(id);
  if (!t) return "<unknown type " + std::to_string(id) + ">";
  if (depth > 8) return "…";
  auto paramsSuffix = [&]() {
    std::string s;
    for (const auto& p : t->params) {
      if (!p.type) continue;
      s += s.empty() ? "<" : ", ";
      s += displayName(*p.type, depth + 1);
    }
    if (!s.empty()) s += ">";
    return s;
  };
  return std::visit(
      [&](const auto& def) -> std::string {
        using D = std::decay_t<decltype(def)>;
        if constexpr (std::is_same_v<D, PrimitiveDef>) {
          return std::string(primitiveName(def.kind));
        } else if constexpr (std::is_same_v<D, SequenceDef>) {
          return "Vec<" + displayName(def.type, depth + 1) + ">";
        } else if constexpr (std::is_same_v<D, ArrayDef>) {
          return "[" + displayName(def.type, depth + 1) + "; " + std::to_string(def.len) + "]";
        } else if constexpr (std::is_same_v<D, TupleDef>) {
          std::string s = "(";
          for (std::size_t i = 0; i < def.types.size(); ++i) {
            if (i) s += ", ";
            s += displayName(def.types[i], depth + 1);
          }
          return s + ")";
        } else if constexpr (std::is_same_v<D, CompactDef>) {
          return "Compact<" + displayName(def.type, depth + 1) + ">";
        } else if constexpr (std::is_same_v<D, BitSequenceDef>) {
          return "BitVec";
        } else {
          if (t->path.empty()) return "<anonymous " + std::to_string(id) + ">";
          return std::string(t->shortName()) + paramsSuffix();
        }
      },
      t->def);
}

bool TypeRegistry::isZeroSized(TypeId id) const {
  return isZeroSized(id, 0);
}

bool TypeRegistry::isZeroSized(TypeId id, int depth) const {
  const TypeInfo* t = get(id);
  if (!t || depth > kMaxTypeDepth) return false;
  if (auto* c = std::get_if<CompositeDef>(&t->def)) {
    return std::all_of(c->fields.begin(), c->fields.end(),
                       [&](const Field& f) { return isZeroSized(f.type, depth + 1); });
  }
  if (auto* tu = std::get_if<TupleDef>(&t->def)) {
    return std::all_of(tu->types.begin(), tu->types.end(),
                       [&](TypeId x) { return isZeroSized(x, depth + 1); });
  }
  if (auto* a = std::get_if<ArrayDef>(&t->def)) return a->len == 0 || isZeroSized(a->type, depth + 1);
  return false;
}

std::size_t TypeRegistry::minEncodedSize(TypeId id) const {
  return minEncodedSize(id, 0);
}

std::size_t TypeRegistry::minEncodedSize(TypeId id, int depth) const {
  const TypeInfo* t = get(id);
  // Unknown ids and runaway recursion count as 1 byte: a safe bound for limiting counts would
  // be 0, but a recursive type always carries at least a tag byte somewhere.
  if (!t || depth > kMaxTypeDepth) return 1;
  return std::visit(
      [&](const auto& def) -> std::size_t {
        using D = std::decay_t<decltype(def)>;
        if constexpr (std::is_same_v<D, CompositeDef>) {
          std::size_t n = 0;
          for (const auto& f : def.fields) n += minEncodedSize(f.type, depth + 1);
          return n;
        } else if constexpr (std::is_same_v<D, VariantDef>) {
          return def.variants.empty() ? 0 : 1;
        } else if constexpr (std::is_same_v<D, SequenceDef> || std::is_same_v<D, CompactDef> ||
                             std::is_same_v<D, BitSequenceDef>) {
          return 1;
        } else if constexpr (std::is_same_v<D, ArrayDef>) {
          std::size_t e = minEncodedSize(def.type, depth + 1);
          return e == 0 ? 0 : std::min<std::size_t>(std::size_t{1} << 30, e * def.len);
        } else if constexpr (std::is_same_v<D, TupleDef>) {
          std::size_t n = 0;
          for (TypeId x : def.types) n += minEncodedSize(x, depth + 1);
          return n;
        } else {
          // A str is at least its compact length; every other primitive is its fixed width.
          return def.kind == Primitive::kStr ? 1 : primitiveWidth(def.kind);
        }
      },
      t->def);
}

const StorageEntry* Pallet::storageEntry(std::string_view item) const {
  for (const auto& e : storage) {
    if (e.name == item) return &e;
  }
  return nullptr;
}

const Constant* Pallet::constant(std::string_view n) const {
  for (const auto& c : constants) {
    if (c.name == n) return &c;
  }
  return nullptr;
}

namespace {

Result<Pallet> readPallet(ScaleReader& r, std::uint8_t version) {
  Pallet p;
  MERIT_ASSIGN_OR_RETURN(p.name, r.str());
  MERIT_ASSIGN_OR_RETURN(bool hasStorage, optionTag(r));
  if (hasStorage) {
    MERIT_ASSIGN_OR_RETURN(p.storagePrefix, r.str());
    MERIT_ASSIGN_OR_RETURN(std::uint64_t n, r.length(5));
    p.storage.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n; ++i) {
      StorageEntry e;
      MERIT_ASSIGN_OR_RETURN(e.name, r.str());
      MERIT_ASSIGN_OR_RETURN(std::uint8_t modifier, r.u8());
      if (modifier > 1)
        return fail(ErrorCode::kInvalidArgument, "bad storage modifier " + std::to_string(modifier));
      e.modifier = static_cast<StorageModifier>(modifier);
      MERIT_ASSIGN_OR_RETURN(std::uint8_t kind, r.u8());
      if (kind == 0) {
        MERIT_ASSIGN_OR_RETURN(e.valueType, typeIdOf(r));
      } else if (kind == 1) {
        e.isMap = true;
        MERIT_ASSIGN_OR_RETURN(std::uint64_t nh, r.length(1));
        for (std::uint64_t k = 0; k < nh; ++k) {
          MERIT_ASSIGN_OR_RETURN(std::uint8_t h, r.u8());
          auto hasher = hasherFromIndex(h);
          if (!hasher)
            return fail(ErrorCode::kInvalidArgument, "unknown storage hasher " + std::to_string(h));
          e.hashers.push_back(*hasher);
        }
        MERIT_ASSIGN_OR_RETURN(TypeId key, typeIdOf(r));
        e.keyType = key;
        MERIT_ASSIGN_OR_RETURN(e.valueType, typeIdOf(r));
      } else {
        return fail(ErrorCode::kInvalidArgument, "bad storage entry type tag " + std::to_string(kind));
      }
      MERIT_ASSIGN_OR_RETURN(e.defaultValue, r.byteVec());
      MERIT_TRY(skipStrings(r));
      p.storage.push_back(std::move(e));
    }
  }
  MERIT_ASSIGN_OR_RETURN(p.callType, optionalTypeId(r));
  MERIT_ASSIGN_OR_RETURN(p.eventType, optionalTypeId(r));
  MERIT_ASSIGN_OR_RETURN(std::uint64_t nc, r.length(4));
  p.constants.reserve(static_cast<std::size_t>(nc));
  for (std::uint64_t i = 0; i < nc; ++i) {
    Constant c;
    MERIT_ASSIGN_OR_RETURN(c.name, r.str());
    MERIT_ASSIGN_OR_RETURN(c.type, typeIdOf(r));
    MERIT_ASSIGN_OR_RETURN(c.value, r.byteVec());
    MERIT_TRY(skipStrings(r));
    p.constants.push_back(std::move(c));
  }
  MERIT_ASSIGN_OR_RETURN(p.errorType, optionalTypeId(r));
  MERIT_ASSIGN_OR_RETURN(p.index, r.u8());
  if (version >= 15) MERIT_TRY(skipStrings(r));
  return p;
}

Result<SignedExtension> readSignedExtension(ScaleReader& r) {
  SignedExtension s;
  MERIT_ASSIGN_OR_RETURN(s.identifier, r.str());
  MERIT_ASSIGN_OR_RETURN(s.type, typeIdOf(r));
  MERIT_ASSIGN_OR_RETURN(s.additionalSigned, typeIdOf(r));
  return s;
}

}  // namespace

Result<Metadata> Metadata::decode(ByteView bytes) {
  ScaleReader r(bytes);
  auto magic = r.u32();
  if (!magic || *magic != 0x6174656dU) {
    return fail(ErrorCode::kCorruption, "not runtime metadata: the \"meta\" magic is missing");
  }
  Metadata m;
  MERIT_ASSIGN_OR_RETURN(m.m_version, r.u8());
  if (m.m_version != 14 && m.m_version != 15) {
    return fail(ErrorCode::kInvalidArgument,
                "unsupported runtime metadata version " + std::to_string(m.m_version) + " (14 and 15 are)");
  }
  const std::uint8_t version = m.m_version;
  auto context = [&](const Error& e) { return e.withContext("metadata v" + std::to_string(version)); };

  auto reg = TypeRegistry::decode(r);
  if (!reg) return fail(context(reg.error()));
  m.m_registry = std::move(*reg);

  auto body = [&]() -> Result<void> {
    MERIT_ASSIGN_OR_RETURN(std::uint64_t np, r.length(7));
    m.m_pallets.reserve(static_cast<std::size_t>(np));
    for (std::uint64_t i = 0; i < np; ++i) {
      auto p = readPallet(r, version);
      if (!p) return fail(p.error().withContext("pallet #" + std::to_string(i)));
      m.m_pallets.push_back(std::move(*p));
    }
    ExtrinsicInfo& x = m.m_extrinsic;
    std::optional<TypeId> unchecked;
    if (version == 14) {
      MERIT_ASSIGN_OR_RETURN(TypeId t, typeIdOf(r));
      unchecked = t;
      MERIT_ASSIGN_OR_RETURN(x.version, r.u8());
    } else {
      MERIT_ASSIGN_OR_RETURN(x.version, r.u8());
      MERIT_ASSIGN_OR_RETURN(x.addressType, typeIdOf(r));
      MERIT_ASSIGN_OR_RETURN(x.callType, typeIdOf(r));
      MERIT_ASSIGN_OR_RETURN(x.signatureType, typeIdOf(r));
      MERIT_ASSIGN_OR_RETURN(x.extraType, typeIdOf(r));
    }
    MERIT_ASSIGN_OR_RETURN(std::uint64_t ns, r.length(3));
    for (std::uint64_t i = 0; i < ns; ++i) {
      MERIT_ASSIGN_OR_RETURN(SignedExtension s, readSignedExtension(r));
      x.signedExtensions.push_back(std::move(s));
    }
    MERIT_ASSIGN_OR_RETURN(m.m_runtimeType, typeIdOf(r));
    if (unchecked) {
      // v14 states the extrinsic's parts only as UncheckedExtrinsic<Address, Call, Signature, Extra>.
      const TypeInfo* u = m.m_registry.get(*unchecked);
      if (!u) return fail(dangling(*unchecked, "extrinsic type"));
      auto a = u->param("Address"), c = u->param("Call"), s = u->param("Signature"), e = u->param("Extra");
      if (!a || !c || !s || !e) {
        return fail(ErrorCode::kCorruption, "extrinsic type " + u->pathString() +
                                                " lacks the Address/Call/Signature/Extra type parameters");
      }
      x.addressType = *a;
      x.callType = *c;
      x.signatureType = *s;
      x.extraType = *e;
    }
    if (version >= 15) {
      MERIT_ASSIGN_OR_RETURN(std::uint64_t na, r.length(3));
      m.m_apis.reserve(static_cast<std::size_t>(na));
      for (std::uint64_t i = 0; i < na; ++i) {
        RuntimeApi api;
        MERIT_ASSIGN_OR_RETURN(api.name, r.str());
        MERIT_ASSIGN_OR_RETURN(std::uint64_t nm, r.length(4));
        api.methods.reserve(static_cast<std::size_t>(nm));
        for (std::uint64_t k = 0; k < nm; ++k) {
          RuntimeApiMethod meth;
          MERIT_ASSIGN_OR_RETURN(meth.name, r.str());
          MERIT_ASSIGN_OR_RETURN(std::uint64_t ni, r.length(2));
          meth.inputs.reserve(static_cast<std::size_t>(ni));
          for (std::uint64_t j = 0; j < ni; ++j) {
            RuntimeApiParam p;
            MERIT_ASSIGN_OR_RETURN(p.name, r.str());
            MERIT_ASSIGN_OR_RETURN(p.type, typeIdOf(r));
            meth.inputs.push_back(std::move(p));
          }
          MERIT_ASSIGN_OR_RETURN(meth.output, typeIdOf(r));
          MERIT_TRY(skipStrings(r));
          api.methods.push_back(std::move(meth));
        }
        MERIT_TRY(skipStrings(r));
        m.m_apis.push_back(std::move(api));
      }
      OuterEnums oe;
      MERIT_ASSIGN_OR_RETURN(oe.callEnum, typeIdOf(r));
      MERIT_ASSIGN_OR_RETURN(oe.eventEnum, typeIdOf(r));
      MERIT_ASSIGN_OR_RETURN(oe.errorEnum, typeIdOf(r));
      m.m_outerEnums = oe;
      // Custom metadata: BTreeMap<String, {type, value bytes}>, read to check it and dropped.
      MERIT_ASSIGN_OR_RETURN(std::uint64_t nk, r.length(3));
      for (std::uint64_t i = 0; i < nk; ++i) {
        MERIT_TRY(r.str());
        MERIT_TRY(typeIdOf(r));
        MERIT_TRY(r.byteVec());
      }
    }
    if (!r.atEnd()) {
      return fail(ErrorCode::kCorruption,
                  std::to_string(r.remaining()) + " trailing bytes after the metadata");
    }
    return {};
  };
  auto ok = body();
  if (!ok) return fail(context(ok.error()));

  // Check every type id outside the registry, so lookups never meet a dangling id.
  auto check = [&](TypeId id, const std::string& where) -> Result<void> {
    if (!m.m_registry.get(id)) return fail(context(dangling(id, where)));
    return {};
  };
  for (const auto& p : m.m_pallets) {
    for (auto t : {p.callType, p.eventType, p.errorType}) {
      if (t) MERIT_TRY(check(*t, "pallet " + p.name));
    }
    for (const auto& e : p.storage) {
      MERIT_TRY(check(e.valueType, p.name + "." + e.name));
      if (e.keyType) MERIT_TRY(check(*e.keyType, p.name + "." + e.name));
    }
    for (const auto& c : p.constants) MERIT_TRY(check(c.type, p.name + "." + c.name));
  }
  const ExtrinsicInfo& x = m.m_extrinsic;
  for (TypeId t : {x.addressType, x.callType, x.signatureType, x.extraType, m.m_runtimeType}) {
    MERIT_TRY(check(t, "extrinsic"));
  }
  for (const auto& s : x.signedExtensions) {
    MERIT_TRY(check(s.type, s.identifier));
    MERIT_TRY(check(s.additionalSigned, s.identifier));
  }
  for (const auto& api : m.m_apis) {
    for (const auto& meth : api.methods) {
      MERIT_TRY(check(meth.output, api.name + "." + meth.name));
      for (const auto& in : meth.inputs) MERIT_TRY(check(in.type, api.name + "." + meth.name));
    }
  }
  if (m.m_outerEnums) {
    for (TypeId t : {m.m_outerEnums->callEnum, m.m_outerEnums->eventEnum, m.m_outerEnums->errorEnum}) {
      MERIT_TRY(check(t, "outer enums"));
    }
  }
  return m;
}

Result<Metadata> Metadata::decodeAny(ByteView bytes) {
  if (bytes.size() >= 4 && asChars(bytes.first(4)) == "meta") return decode(bytes);
  ScaleReader r(bytes);
  auto tag = r.u8();
  if (!tag || *tag > 1) {
    return fail(ErrorCode::kCorruption, "neither runtime metadata nor an Option<Vec<u8>> wrapping it");
  }
  if (*tag == 0) return fail(ErrorCode::kNotFound, "the runtime has no metadata at the requested version");
  MERIT_ASSIGN_OR_RETURN(Bytes inner, r.byteVec());
  if (!r.atEnd()) return fail(ErrorCode::kCorruption, "trailing bytes after the wrapped metadata");
  return decode(inner);
}

const Pallet* Metadata::pallet(std::string_view name) const {
  for (const auto& p : m_pallets) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const Pallet* Metadata::palletByIndex(std::uint8_t index) const {
  for (const auto& p : m_pallets) {
    if (p.index == index) return &p;
  }
  return nullptr;
}

const StorageEntry* Metadata::storage(std::string_view palletName, std::string_view item) const {
  const Pallet* p = pallet(palletName);
  return p ? p->storageEntry(item) : nullptr;
}

namespace {
const VariantDef* variantDef(const TypeRegistry& reg, std::optional<TypeId> id) {
  if (!id) return nullptr;
  const TypeInfo* t = reg.get(*id);
  return t ? std::get_if<VariantDef>(&t->def) : nullptr;
}
}  // namespace

const Variant* Metadata::callVariant(std::string_view palletName, std::string_view call) const {
  const Pallet* p = pallet(palletName);
  const VariantDef* v = p ? variantDef(m_registry, p->callType) : nullptr;
  return v ? v->byName(call) : nullptr;
}

const Variant* Metadata::eventVariant(std::string_view palletName, std::string_view event) const {
  const Pallet* p = pallet(palletName);
  const VariantDef* v = p ? variantDef(m_registry, p->eventType) : nullptr;
  return v ? v->byName(event) : nullptr;
}

const Variant* Metadata::errorVariant(std::uint8_t palletIndex, std::uint8_t errorIndex) const {
  const Pallet* p = palletByIndex(palletIndex);
  const VariantDef* v = p ? variantDef(m_registry, p->errorType) : nullptr;
  return v ? v->byIndex(errorIndex) : nullptr;
}

Result<std::string> Metadata::errorName(std::uint8_t palletIndex, std::uint8_t errorIndex) const {
  const Pallet* p = palletByIndex(palletIndex);
  if (!p) return fail(ErrorCode::kNotFound, "no pallet with index " + std::to_string(palletIndex));
  const Variant* v = errorVariant(palletIndex, errorIndex);
  if (!v) {
    return fail(ErrorCode::kNotFound,
                "pallet " + p->name + " has no error with index " + std::to_string(errorIndex));
  }
  return v->name;
}

const Constant* Metadata::constant(std::string_view palletName, std::string_view name) const {
  const Pallet* p = pallet(palletName);
  return p ? p->constant(name) : nullptr;
}

const RuntimeApi* Metadata::runtimeApi(std::string_view api) const {
  for (const auto& a : m_apis) {
    if (a.name == api) return &a;
  }
  return nullptr;
}

const RuntimeApiMethod* Metadata::runtimeApiMethod(std::string_view api, std::string_view method) const {
  const RuntimeApi* a = runtimeApi(api);
  if (!a) return nullptr;
  for (const auto& m : a->methods) {
    if (m.name == method) return &m;
  }
  return nullptr;
}

}  // namespace merit::substrate
