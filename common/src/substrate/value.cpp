#include "merit/substrate/value.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "merit/crypto/ss58.h"

namespace merit::substrate {

using nlohmann::json;

namespace {

// The short JSON description of a value for error messages, bounded in length.
std::string describe(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

bool isOptionType(const TypeInfo& t, const VariantDef& def) {
  return t.path.size() == 1 && t.path[0] == "Option" && def.variants.size() == 2 && def.byName("None") &&
         def.byName("Some") && def.byName("None")->fields.empty() && def.byName("Some")->fields.size() == 1;
}

bool isU8(const TypeRegistry& reg, TypeId id) {
  const TypeInfo* t = reg.get(id);
  auto* p = t ? std::get_if<PrimitiveDef>(&t->def) : nullptr;
  return p && p->kind == Primitive::kU8;
}

// Valid UTF-8 (no overlongs, no surrogates), so the JSON can always be serialised.
bool validUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    if (c < 0x80) {
      n = 0;
    } else if ((c >> 5) == 6) {
      n = 1;
    } else if ((c >> 4) == 14) {
      n = 2;
    } else if ((c >> 3) == 30) {
      n = 3;
    } else {
      return false;
    }
    if (n > s.size() - i - 1) return false;
    std::uint32_t cp = n == 0 ? c : (c & (0x3f >> n));
    for (std::size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

void appendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// A number read from the reader as JSON, or the reader's error.
template <typename T>
Result<nlohmann::json> asJson(Result<T> r) {
  if (!r) return fail(r.error());
  return nlohmann::json(*r);
}

bool primitiveSigned(Primitive p) {
  return p == Primitive::kI8 || p == Primitive::kI16 || p == Primitive::kI32 || p == Primitive::kI64 ||
         p == Primitive::kI128 || p == Primitive::kI256;
}

// The unsigned primitive under Compact<T>: T itself, or T's single field (Compact<Perbill>...).
std::optional<Primitive> compactPrimitive(const TypeRegistry& reg, TypeId id) {
  for (int depth = 0; depth < kMaxValueDepth; ++depth) {
    const TypeInfo* t = reg.get(id);
    if (!t) return std::nullopt;
    if (auto* p = std::get_if<PrimitiveDef>(&t->def)) return p->kind;
    auto* c = std::get_if<CompositeDef>(&t->def);
    if (!c || c->fields.size() != 1) return std::nullopt;
    id = c->fields[0].type;
  }
  return std::nullopt;
}

class Encoder {
 public:
  Encoder(const TypeRegistry& reg, ScaleWriter& out, std::string_view root)
      : m_reg(reg), m_out(out), m_path(root) {}

  Result<void> encode(TypeId id, const json& v, int depth) {
    if (depth > kMaxValueDepth) return err("nesting deeper than " + std::to_string(kMaxValueDepth));
    const TypeInfo* t = m_reg.get(id);
    if (!t) return err("unknown type id " + std::to_string(id));
    return std::visit([&](const auto& def) { return encodeDef(*t, def, v, depth); }, t->def);
  }

 private:
  tl::unexpected<Error> err(const std::string& what) const {
    return fail(ErrorCode::kInvalidArgument, m_path + ": " + what);
  }
  tl::unexpected<Error> expected(TypeId id, const json& v) const {
    return err("expected " + m_reg.displayName(id) + ", got " + describe(v));
  }

  // Runs `f` with `suffix` appended to the error path.
  template <typename F>
  Result<void> at(const std::string& suffix, F&& f) {
    std::size_t len = m_path.size();
    m_path += suffix;
    Result<void> r = f();
    m_path.resize(len);
    return r;
  }

  Result<void> encodeFields(const TypeInfo& t, const std::vector<Field>& fields, const json& v, int depth) {
    if (fields.empty()) {
      if (v.is_null() || (v.is_array() && v.empty()) || (v.is_object() && v.empty())) return {};
      return err("expected no value for " + m_reg.displayName(t.id) + ", got " + describe(v));
    }
    bool named = std::all_of(fields.begin(), fields.end(), [](const Field& f) { return f.name.has_value(); });
    if (!named && fields.size() == 1) return encode(fields[0].type, v, depth + 1);
    if (named && v.is_object()) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        bool known =
            std::any_of(fields.begin(), fields.end(), [&](const Field& f) { return *f.name == it.key(); });
        if (!known) return err("unknown field \"" + it.key() + "\" for " + m_reg.displayName(t.id));
      }
      for (const auto& f : fields) {
        auto it = v.find(*f.name);
        if (it == v.end())
          return err("missing field \"" + *f.name + "\" (" + m_reg.displayName(f.type) + ")");
        MERIT_TRY(at("." + *f.name, [&] { return encode(f.type, *it, depth + 1); }));
      }
      return {};
    }
    if (v.is_array()) {
      if (v.size() != fields.size()) {
        return err("expected " + std::to_string(fields.size()) + " values for " + m_reg.displayName(t.id) +
                   ", got " + std::to_string(v.size()));
      }
      for (std::size_t i = 0; i < fields.size(); ++i) {
        std::string suffix = fields[i].name ? "." + *fields[i].name : "[" + std::to_string(i) + "]";
        MERIT_TRY(at(suffix, [&] { return encode(fields[i].type, v[i], depth + 1); }));
      }
      return {};
    }
    return expected(t.id, v);
  }

  Result<void> encodeDef(const TypeInfo& t, const CompositeDef& def, const json& v, int depth) {
    if (isAccountId32(t) && v.is_string()) {
      auto id = parseAccountId(v.get_ref<const std::string&>());
      if (!id) return err(id.error().message());
      m_out.raw(*id);
      return {};
    }
    return encodeFields(t, def.fields, v, depth);
  }

  Result<void> encodeDef(const TypeInfo& t, const VariantDef& def, const json& v, int depth) {
    if (isOptionType(t, def)) {
      if (v.is_null()) {
        m_out.u8(def.byName("None")->index);
        return {};
      }
      const Variant* some = def.byName("Some");
      m_out.u8(some->index);
      return encode(some->fields[0].type, v, depth + 1);
    }
    std::string name;
    const json* payload = nullptr;
    if (v.is_string()) {
      name = v.get<std::string>();
    } else if (v.is_object() && v.size() == 1) {
      name = v.begin().key();
      payload = &v.begin().value();
    } else {
      return err("expected a variant of " + m_reg.displayName(t.id) +
                 " (\"Name\" or {\"Name\": value}), got " + describe(v));
    }
    const Variant* var = def.byName(name);
    if (!var) {
      std::string names;
      for (const auto& x : def.variants) names += (names.empty() ? "" : ", ") + x.name;
      if (names.size() > 300) names = names.substr(0, 300) + "...";
      return err("unknown variant \"" + name + "\" of " + m_reg.displayName(t.id) + " (one of: " + names +
                 ")");
    }
    m_out.u8(var->index);
    static const json kNull;
    return at("." + name, [&] { return encodeFields(t, var->fields, payload ? *payload : kNull, depth); });
  }

  Result<void> encodeBytes(const json& v, std::optional<std::size_t> fixedLen, bool allowText) {
    Bytes bytes;
    if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (s.rfind("0x", 0) == 0) {
        auto b = fromHex(s);
        if (!b) return err(b.error().message());
        bytes = std::move(*b);
      } else if (allowText) {
        bytes = toBytes(std::string_view(s));
      } else {
        return err("expected \"0x\" hex bytes, got " + describe(v));
      }
    } else if (v.is_array()) {
      bytes.reserve(v.size());
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_number_integer() || v[i].get<std::int64_t>() < 0 || v[i].get<std::int64_t>() > 255) {
          return err("[" + std::to_string(i) + "]: expected u8, got " + describe(v[i]));
        }
        bytes.push_back(static_cast<std::byte>(v[i].get<std::int64_t>()));
      }
    } else {
      return err("expected bytes (\"0x...\" or an array of u8), got " + describe(v));
    }
    if (fixedLen) {
      if (bytes.size() != *fixedLen) {
        return err("expected " + std::to_string(*fixedLen) + " bytes, got " + std::to_string(bytes.size()));
      }
      m_out.raw(bytes);
    } else {
      m_out.byteVec(bytes);
    }
    return {};
  }

  Result<void> encodeDef(const TypeInfo&, const SequenceDef& def, const json& v, int depth) {
    if (isU8(m_reg, def.type)) return encodeBytes(v, std::nullopt, true);
    if (!v.is_array())
      return err("expected an array of " + m_reg.displayName(def.type) + ", got " + describe(v));
    m_out.compact(static_cast<std::uint64_t>(v.size()));
    for (std::size_t i = 0; i < v.size(); ++i) {
      MERIT_TRY(at("[" + std::to_string(i) + "]", [&] { return encode(def.type, v[i], depth + 1); }));
    }
    return {};
  }

  Result<void> encodeDef(const TypeInfo&, const ArrayDef& def, const json& v, int depth) {
    if (isU8(m_reg, def.type)) return encodeBytes(v, def.len, false);
    if (!v.is_array() || v.size() != def.len) {
      return err("expected an array of " + std::to_string(def.len) + " " + m_reg.displayName(def.type) +
                 ", got " + describe(v));
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      MERIT_TRY(at("[" + std::to_string(i) + "]", [&] { return encode(def.type, v[i], depth + 1); }));
    }
    return {};
  }

  Result<void> encodeDef(const TypeInfo& t, const TupleDef& def, const json& v, int depth) {
    if (def.types.empty()) {
      if (v.is_null() || (v.is_array() && v.empty())) return {};
      return expected(t.id, v);
    }
    if (def.types.size() == 1 && !v.is_array()) return encode(def.types[0], v, depth + 1);
    if (!v.is_array() || v.size() != def.types.size()) return expected(t.id, v);
    for (std::size_t i = 0; i < v.size(); ++i) {
      MERIT_TRY(at("[" + std::to_string(i) + "]", [&] { return encode(def.types[i], v[i], depth + 1); }));
    }
    return {};
  }

  // An integer JSON value (number or decimal string) as `width` little-endian bytes.
  Result<Bytes> integerBytes(const json& v, std::size_t width, bool isSigned, std::string_view typeName) {
    std::string text;
    if (v.is_number_unsigned()) {
      text = std::to_string(v.get<std::uint64_t>());
    } else if (v.is_number_integer()) {
      text = std::to_string(v.get<std::int64_t>());
    } else if (v.is_string()) {
      text = v.get<std::string>();
    } else {
      return err("expected " + std::string(typeName) + ", got " + describe(v));
    }
    auto b = decimalToLeBytes(text, width, isSigned);
    if (!b) return err("expected " + std::string(typeName) + ", got " + describe(v));
    return b;
  }

  Result<void> encodeDef(const TypeInfo&, const PrimitiveDef& def, const json& v, int) {
    std::string_view name = primitiveName(def.kind);
    switch (def.kind) {
      case Primitive::kBool:
        if (!v.is_boolean()) return err("expected bool, got " + describe(v));
        m_out.boolean(v.get<bool>());
        return {};
      case Primitive::kStr:
        if (!v.is_string()) return err("expected str, got " + describe(v));
        m_out.str(v.get_ref<const std::string&>());
        return {};
      case Primitive::kChar: {
        if (!v.is_string()) return err("expected char, got " + describe(v));
        const auto& s = v.get_ref<const std::string&>();
        if (s.empty() || !validUtf8(s)) return err("expected char, got " + describe(v));
        auto lead = static_cast<unsigned char>(s[0]);
        std::size_t n = lead < 0x80 ? 1 : (lead >> 5) == 6 ? 2 : (lead >> 4) == 14 ? 3 : 4;
        if (s.size() != n) return err("expected one character, got " + describe(v));
        std::uint32_t cp = n == 1 ? lead : (lead & (0xff >> (n + 1)));
        for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[k]) & 0x3f);
        m_out.u32(cp);
        return {};
      }
      default: {
        MERIT_ASSIGN_OR_RETURN(Bytes b,
                               integerBytes(v, primitiveWidth(def.kind), primitiveSigned(def.kind), name));
        m_out.raw(b);
        return {};
      }
    }
  }

  Result<void> encodeDef(const TypeInfo& t, const CompactDef& def, const json& v, int) {
    auto prim = compactPrimitive(m_reg, def.type);
    if (!prim || primitiveWidth(*prim) == 0 || primitiveWidth(*prim) > 16 || primitiveSigned(*prim)) {
      return err("unsupported compact type " + m_reg.displayName(t.id));
    }
    MERIT_ASSIGN_OR_RETURN(Bytes b, integerBytes(v, primitiveWidth(*prim), false, m_reg.displayName(t.id)));
    b.resize(16);
    m_out.compact(U128{readU64Le(ByteView(b).first(8)), readU64Le(ByteView(b).subspan(8))});
    return {};
  }

  Result<void> encodeDef(const TypeInfo& t, const BitSequenceDef& def, const json& v, int) {
    auto store = compactPrimitive(m_reg, def.storeType);
    const TypeInfo* order = m_reg.get(def.orderType);
    std::size_t width = store ? primitiveWidth(*store) : 0;
    bool lsb = order && order->shortName() == "Lsb0";
    bool msb = order && order->shortName() == "Msb0";
    if (!store || primitiveSigned(*store) || width == 0 || width > 8 || (!lsb && !msb)) {
      return err("unsupported bit sequence " + m_reg.displayName(t.id));
    }
    if (!v.is_array()) return err("expected an array of booleans, got " + describe(v));
    std::size_t bitsPerWord = width * 8;
    std::size_t words = (v.size() + bitsPerWord - 1) / bitsPerWord;
    Bytes out(words * width);
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_boolean()) return err("[" + std::to_string(i) + "]: expected bool, got " + describe(v[i]));
      if (!v[i].get<bool>()) continue;
      std::size_t word = i / bitsPerWord, bit = i % bitsPerWord;
      if (msb) bit = bitsPerWord - 1 - bit;
      out[word * width + bit / 8] |= static_cast<std::byte>(1u << (bit % 8));
    }
    m_out.compact(static_cast<std::uint64_t>(v.size()));
    m_out.raw(out);
    return {};
  }

  const TypeRegistry& m_reg;
  ScaleWriter& m_out;
  std::string m_path;
};

class Decoder {
 public:
  Decoder(const TypeRegistry& reg, ScaleReader& in) : m_reg(reg), m_in(in) {}

  Result<json> decode(TypeId id, int depth) {
    if (depth > kMaxValueDepth) {
      return fail(ErrorCode::kInvalidArgument, "value nested deeper than " + std::to_string(kMaxValueDepth));
    }
    const TypeInfo* t = m_reg.get(id);
    if (!t) return fail(ErrorCode::kInvalidArgument, "unknown type id " + std::to_string(id));
    auto r = std::visit([&](const auto& def) { return decodeDef(*t, def, depth); }, t->def);
    if (!r && depth == 0) return fail(r.error().withContext("decoding " + m_reg.displayName(id)));
    return r;
  }

 private:
  Result<json> decodeFields(const std::vector<Field>& fields, int depth) {
    if (fields.empty()) return json(nullptr);
    bool named = std::all_of(fields.begin(), fields.end(), [](const Field& f) { return f.name.has_value(); });
    if (!named && fields.size() == 1) return decode(fields[0].type, depth + 1);
    json out = named ? json::object() : json::array();
    for (const auto& f : fields) {
      MERIT_ASSIGN_OR_RETURN(json v, decode(f.type, depth + 1));
      if (named) {
        out[*f.name] = std::move(v);
      } else {
        out.push_back(std::move(v));
      }
    }
    return out;
  }

  Result<json> decodeDef(const TypeInfo& t, const CompositeDef& def, int depth) {
    if (isAccountId32(t)) {
      MERIT_ASSIGN_OR_RETURN(ByteView b, m_in.take(32));
      return json("0x" + toHex(b));
    }
    return decodeFields(def.fields, depth);
  }

  Result<json> decodeDef(const TypeInfo& t, const VariantDef& def, int depth) {
    MERIT_ASSIGN_OR_RETURN(std::uint8_t tag, m_in.u8());
    const Variant* var = def.byIndex(tag);
    if (!var) {
      return fail(ErrorCode::kInvalidArgument,
                  "variant index " + std::to_string(tag) + " is not in " + m_reg.displayName(t.id));
    }
    if (isOptionType(t, def)) {
      if (var->fields.empty()) return json(nullptr);
      return decode(var->fields[0].type, depth + 1);
    }
    if (var->fields.empty()) return json(var->name);
    MERIT_ASSIGN_OR_RETURN(json payload, decodeFields(var->fields, depth));
    json out = json::object();
    out[var->name] = std::move(payload);
    return out;
  }

  Result<json> decodeDef(const TypeInfo&, const SequenceDef& def, int depth) {
    if (isU8(m_reg, def.type)) {
      MERIT_ASSIGN_OR_RETURN(Bytes b, m_in.byteVec());
      return json("0x" + toHex(b));
    }
    MERIT_ASSIGN_OR_RETURN(std::uint64_t n, m_in.length(m_reg.minEncodedSize(def.type)));
    json out = json::array();
    for (std::uint64_t i = 0; i < n; ++i) {
      MERIT_ASSIGN_OR_RETURN(json v, decode(def.type, depth + 1));
      out.push_back(std::move(v));
    }
    return out;
  }

  Result<json> decodeDef(const TypeInfo&, const ArrayDef& def, int depth) {
    if (isU8(m_reg, def.type)) {
      MERIT_ASSIGN_OR_RETURN(ByteView b, m_in.take(def.len));
      return json("0x" + toHex(b));
    }
    MERIT_TRY(m_in.checkCount(def.len, m_reg.minEncodedSize(def.type)));
    json out = json::array();
    for (std::uint32_t i = 0; i < def.len; ++i) {
      MERIT_ASSIGN_OR_RETURN(json v, decode(def.type, depth + 1));
      out.push_back(std::move(v));
    }
    return out;
  }

  Result<json> decodeDef(const TypeInfo&, const TupleDef& def, int depth) {
    if (def.types.empty()) return json(nullptr);
    json out = json::array();
    for (TypeId x : def.types) {
      MERIT_ASSIGN_OR_RETURN(json v, decode(x, depth + 1));
      out.push_back(std::move(v));
    }
    return out;
  }

  Result<json> decodeDef(const TypeInfo&, const PrimitiveDef& def, int) {
    switch (def.kind) {
      case Primitive::kBool: {
        MERIT_ASSIGN_OR_RETURN(bool b, m_in.boolean());
        return json(b);
      }
      case Primitive::kStr: {
        MERIT_ASSIGN_OR_RETURN(std::string s, m_in.str());
        if (!validUtf8(s)) return fail(ErrorCode::kInvalidArgument, "str is not valid UTF-8");
        return json(std::move(s));
      }
      case Primitive::kChar: {
        MERIT_ASSIGN_OR_RETURN(std::uint32_t cp, m_in.u32());
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          return fail(ErrorCode::kInvalidArgument, "char " + std::to_string(cp) + " is not a Unicode scalar");
        }
        std::string s;
        appendUtf8(s, cp);
        return json(std::move(s));
      }
      // Integers of up to 64 bits are JSON numbers; wider ones decimal strings (default below).
      case Primitive::kU8: return asJson(m_in.u8());
      case Primitive::kU16: return asJson(m_in.u16());
      case Primitive::kU32: return asJson(m_in.u32());
      case Primitive::kU64: return asJson(m_in.u64());
      case Primitive::kI8: return asJson(m_in.i8());
      case Primitive::kI16: return asJson(m_in.i16());
      case Primitive::kI32: return asJson(m_in.i32());
      case Primitive::kI64: return asJson(m_in.i64());
      default: {
        MERIT_ASSIGN_OR_RETURN(ByteView b, m_in.take(primitiveWidth(def.kind)));
        return json(leBytesToDecimal(b, primitiveSigned(def.kind)));
      }
    }
  }

  Result<json> decodeDef(const TypeInfo& t, const CompactDef& def, int) {
    auto prim = compactPrimitive(m_reg, def.type);
    if (!prim || primitiveWidth(*prim) == 0 || primitiveWidth(*prim) > 16 || primitiveSigned(*prim)) {
      return fail(ErrorCode::kInvalidArgument, "unsupported compact type " + m_reg.displayName(t.id));
    }
    MERIT_ASSIGN_OR_RETURN(U128 v, m_in.compactU128());
    std::size_t width = primitiveWidth(*prim);
    bool fits = width >= 16 || (v.hi == 0 && (width == 8 || v.lo < (std::uint64_t{1} << (8 * width))));
    if (!fits) {
      return fail(ErrorCode::kInvalidArgument,
                  "compact value " + v.toDecimal() + " exceeds " + std::string(primitiveName(*prim)));
    }
    if (v.hi == 0) return json(v.lo);
    return json(v.toDecimal());
  }

  Result<json> decodeDef(const TypeInfo& t, const BitSequenceDef& def, int) {
    auto store = compactPrimitive(m_reg, def.storeType);
    const TypeInfo* order = m_reg.get(def.orderType);
    std::size_t width = store ? primitiveWidth(*store) : 0;
    bool lsb = order && order->shortName() == "Lsb0";
    bool msb = order && order->shortName() == "Msb0";
    if (!store || primitiveSigned(*store) || width == 0 || width > 8 || (!lsb && !msb)) {
      return fail(ErrorCode::kInvalidArgument, "unsupported bit sequence " + m_reg.displayName(t.id));
    }
    MERIT_ASSIGN_OR_RETURN(std::uint64_t bits, m_in.compact());
    std::size_t bitsPerWord = width * 8;
    std::uint64_t words = bits / bitsPerWord + (bits % bitsPerWord ? 1 : 0);
    MERIT_TRY(m_in.checkCount(words, width));
    MERIT_ASSIGN_OR_RETURN(ByteView b, m_in.take(static_cast<std::size_t>(words * width)));
    json out = json::array();
    for (std::uint64_t i = 0; i < bits; ++i) {
      std::size_t word = static_cast<std::size_t>(i / bitsPerWord),
                  bit = static_cast<std::size_t>(i % bitsPerWord);
      if (msb) bit = bitsPerWord - 1 - bit;
      out.push_back((std::to_integer<unsigned>(b[word * width + bit / 8]) >> (bit % 8)) & 1u ? true : false);
    }
    return out;
  }

  const TypeRegistry& m_reg;
  ScaleReader& m_in;
};

}  // namespace

bool isAccountId32(const TypeInfo& t) {
  return t.path.size() == 3 && t.path[0] == "sp_core" && t.path[1] == "crypto" && t.path[2] == "AccountId32";
}

Result<crypto::AccountId> parseAccountId(std::string_view text) {
  if (text.rfind("0x", 0) == 0) {
    auto id = fromHexFixed<32>(text);
    if (!id) return fail(id.error().withContext("account id"));
    return *id;
  }
  auto d = crypto::ss58DecodeAnyPrefix(text);
  if (!d) return fail(d.error());
  return d->account;
}

Result<void> encodeValue(const TypeRegistry& reg, TypeId type, const json& value, ScaleWriter& out,
                         std::string_view path) {
  Encoder enc(reg, out, path);
  return enc.encode(type, value, 0);
}

Result<Bytes> encodeValue(const TypeRegistry& reg, TypeId type, const json& value, std::string_view path) {
  ScaleWriter w;
  MERIT_TRY(encodeValue(reg, type, value, w, path));
  return w.take();
}

Result<json> decodeValue(const TypeRegistry& reg, TypeId type, ScaleReader& in) {
  Decoder dec(reg, in);
  return dec.decode(type, 0);
}

Result<json> decodeValue(const TypeRegistry& reg, TypeId type, ByteView bytes) {
  ScaleReader r(bytes);
  MERIT_ASSIGN_OR_RETURN(json v, decodeValue(reg, type, r));
  if (!r.atEnd()) {
    return fail(ErrorCode::kInvalidArgument,
                std::to_string(r.remaining()) + " trailing bytes after a " + reg.displayName(type));
  }
  return v;
}

}  // namespace merit::substrate
