// A small portable type registry written by hand in SCALE, covering every kind of type
// definition, so the value codec is tested (and fuzzed) without the captured runtime metadata.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "merit/substrate/metadata.h"
#include "merit/substrate/scale.h"

namespace merit::substrate::testing {

enum SyntheticType : TypeId {
  kU8,
  kU16,
  kU64,
  kU128,
  kBool,
  kStr,
  kVecU8,
  kVecU16,
  kArrU8x4,
  kAccountId,
  kOptionU16,
  kCompactU64,
  kTupleU16U64,
  kNamedStruct,
  kEnum,
  kBitVec,
  kLsb0,
  kI32,
  kChar,
  kCompactU128,
  kUnit,
  kU256,
  kI128,
  kVecNamedStruct,
  kNewtypeU64,
  kCompactNewtype,
  kArrU16x3,
  kTypeCount
};

class RegistryWriter {
 public:
  void type(std::initializer_list<const char*> path, auto&& def) {
    m_w.compact(m_count++);
    m_w.compact(path.size());
    for (const char* s : path) m_w.str(s);
    m_w.compact(0);  // type params
    def(m_w);
    m_w.compact(1);  // docs: one string, which the decoder must skip
    m_w.str("doc");
  }
  static void field(ScaleWriter& w, const char* name, TypeId t) {
    if (name) {
      w.u8(1).str(name);
    } else {
      w.u8(0);
    }
    w.compact(t).u8(0).compact(0);
  }
  Bytes finish() {
    ScaleWriter out;
    out.compact(m_count);
    out.raw(m_w.data());
    return out.take();
  }

 private:
  ScaleWriter m_w;
  std::uint64_t m_count = 0;
};

inline Bytes syntheticRegistryBytes() {
  RegistryWriter r;
  auto prim = [](std::uint8_t p) { return [p](ScaleWriter& w) { w.u8(5).u8(p); }; };
  r.type({}, prim(3));                                               // kU8
  r.type({}, prim(4));                                               // kU16
  r.type({}, prim(6));                                               // kU64
  r.type({}, prim(7));                                               // kU128
  r.type({}, prim(0));                                               // kBool
  r.type({}, prim(2));                                               // kStr
  r.type({}, [](ScaleWriter& w) { w.u8(2).compact(kU8); });          // kVecU8
  r.type({}, [](ScaleWriter& w) { w.u8(2).compact(kU16); });         // kVecU16
  r.type({}, [](ScaleWriter& w) { w.u8(3).u32(4).compact(kU8); });   // kArrU8x4
  r.type({"sp_core", "crypto", "AccountId32"}, [](ScaleWriter& w) {  // kAccountId
    w.u8(0).compact(1);
    RegistryWriter::field(w, nullptr, kTypeCount);  // patched below: [u8; 32] is the last type
  });
  r.type({"Option"}, [](ScaleWriter& w) {  // kOptionU16
    w.u8(1).compact(2);
    w.str("None").compact(0).u8(0).compact(0);
    w.str("Some").compact(1);
    RegistryWriter::field(w, nullptr, kU16);
    w.u8(1).compact(0);
  });
  r.type({}, [](ScaleWriter& w) { w.u8(6).compact(kU64); });                           // kCompactU64
  r.type({}, [](ScaleWriter& w) { w.u8(4).compact(2).compact(kU16).compact(kU64); });  // kTupleU16U64
  r.type({"test", "Named"}, [](ScaleWriter& w) {                                       // kNamedStruct
    w.u8(0).compact(3);
    RegistryWriter::field(w, "a", kU16);
    RegistryWriter::field(w, "b", kVecU16);
    RegistryWriter::field(w, "c", kOptionU16);
  });
  r.type({"test", "E"}, [](ScaleWriter& w) {  // kEnum: A = 0, B(u16) = 1, C { x: bool } = 5
    w.u8(1).compact(3);
    w.str("A").compact(0).u8(0).compact(0);
    w.str("B").compact(1);
    RegistryWriter::field(w, nullptr, kU16);
    w.u8(1).compact(0);
    w.str("C").compact(1);
    RegistryWriter::field(w, "x", kBool);
    w.u8(5).compact(0);
  });
  r.type({}, [](ScaleWriter& w) { w.u8(7).compact(kU8).compact(kLsb0); });          // kBitVec
  r.type({"bitvec", "order", "Lsb0"}, [](ScaleWriter& w) { w.u8(0).compact(0); });  // kLsb0
  r.type({}, prim(11));                                                             // kI32
  r.type({}, prim(1));                                                              // kChar
  r.type({}, [](ScaleWriter& w) { w.u8(6).compact(kU128); });                       // kCompactU128
  r.type({}, [](ScaleWriter& w) { w.u8(4).compact(0); });                           // kUnit
  r.type({}, prim(8));                                                              // kU256
  r.type({}, prim(13));                                                             // kI128
  r.type({}, [](ScaleWriter& w) { w.u8(2).compact(kNamedStruct); });                // kVecNamedStruct
  r.type({"test", "Newtype"}, [](ScaleWriter& w) {                                  // kNewtypeU64
    w.u8(0).compact(1);
    RegistryWriter::field(w, nullptr, kU64);
  });
  r.type({}, [](ScaleWriter& w) { w.u8(6).compact(kNewtypeU64); });  // kCompactNewtype
  r.type({}, [](ScaleWriter& w) { w.u8(3).u32(3).compact(kU16); });  // kArrU16x3
  r.type({}, [](ScaleWriter& w) { w.u8(3).u32(32).compact(kU8); });  // id kTypeCount: [u8; 32]
  return r.finish();
}

inline TypeRegistry syntheticRegistry() {
  Bytes b = syntheticRegistryBytes();
  ScaleReader r(b);
  return TypeRegistry::decode(r).value();
}

}  // namespace merit::substrate::testing
