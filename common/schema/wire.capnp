# The meritnet wire protocol (validator <-> miner): one Cap'n Proto message per ZeroMQ frame.
# docs/PROTOCOL.md is the specification; this file is its machine-readable half.
#
# Schema evolution: fields and union members are only ever added, never renumbered or removed.
# Signatures and MACs cover a canonical byte string (docs/PROTOCOL.md, "Canonical bytes"), never
# these encoded bytes, so adding a field here does not change what was signed.

@0x8541deaa246ab957;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("merit::wire::capnp_schema");

# Outcome of a request. Numbering is part of the protocol.
enum Status {
  ok @0;
  badRequest @1;     # malformed, too large, body hash mismatch
  unauthorized @2;   # authenticator failed, wrong target, unknown session
  forbidden @3;      # caller not allowed by the axon's policy
  notFound @4;       # unknown subnet module or version
  rateLimited @5;    # caller's token bucket is empty
  stale @6;          # timestamp outside the window, or nonce not increasing
  overloaded @7;     # the axon's bounded queue is full, or it is draining
  timeout @8;        # the request's deadline passed before the handler ran
  internal @9;       # the axon failed (handler threw, ...); never the caller's fault
}

struct Authenticator {
  union {
    none @0 :Void;               # only on pre-authentication rejections
    signature @1 :Data;          # tagged: 0x01 || 64-byte sr25519 signature (65 bytes) or
                                 # 0x02 || 65-byte ECDSA r||s||v (66 bytes)
    sessionMac :group {
      sessionId @2 :Data;        # 16 bytes, chosen by the axon in the handshake
      mac @3 :Data;              # 32 bytes, keyed BLAKE2b-256(session key, canonical bytes)
    }
  }
}

struct RequestHeader {
  protocolVersion @0 :UInt16;   # 2 (version 1 had untagged 33-byte secp256k1 keys)
  netuid @1 :UInt16;
  module @2 :Text;               # subnet module name, 1..64 bytes of [a-z0-9_.-]
  moduleVersion @3 :UInt32;
  requestId @4 :Data;            # 16 bytes, random
  caller @5 :Data;               # tagged hotkey of the validator: 0x01 || 32-byte sr25519 key
                                 # (33 bytes) or 0x02 || 33-byte compressed secp256k1 key (34)
  target @6 :Data;               # tagged hotkey of the miner, as caller
  timestampMs @7 :Int64;         # caller's wall clock, ms since the Unix epoch
  nonce @8 :UInt64;              # strictly increasing per caller (per target axon)
  timeoutMs @9 :UInt32;          # how long the caller will wait
  bodyHash @10 :Data;            # 32 bytes, BLAKE2b-256(body)
}

struct Request {
  header @0 :RequestHeader;
  body @1 :Data;                 # the subnet plugin's own bytes
  auth @2 :Authenticator;
}

struct Response {
  requestId @0 :Data;            # 16 bytes, copied from the request
  status @1 :Status;
  message @2 :Text;              # human-readable, at most 1024 bytes
  timestampMs @3 :Int64;         # axon's wall clock when the response was made
  bodyHash @4 :Data;             # 32 bytes, BLAKE2b-256(body)
  body @5 :Data;
  auth @6 :Authenticator;
}

# Session handshake, caller -> axon: proves the caller's hotkey and offers a fresh nonce.
struct SessionInit {
  protocolVersion @0 :UInt16;
  caller @1 :Data;               # tagged hotkey, 33 or 34 bytes
  target @2 :Data;               # tagged hotkey, 33 or 34 bytes
  timestampMs @3 :Int64;
  clientNonce @4 :Data;          # 32 random bytes
  signature @5 :Data;            # tagged signature (65 or 66 bytes) by the caller's hotkey
  clientEphemeral @6 :Data;      # 32 bytes, the caller's X25519 public key for this handshake
}

# Session handshake, axon -> caller: accepts (signed) or rejects (unsigned).
struct SessionReply {
  status @0 :Status;
  message @1 :Text;
  clientNonce @2 :Data;          # 32 bytes, echoed so the caller can match the reply
  serverNonce @3 :Data;          # 32 random bytes (empty on rejection)
  sessionId @4 :Data;            # 16 random bytes (empty on rejection)
  timestampMs @5 :Int64;
  signature @6 :Data;            # tagged signature by the axon's hotkey (empty on rejection)
  serverEphemeral @7 :Data;      # 32 bytes, the axon's X25519 public key (empty on rejection)
}

# What travels in one ZeroMQ frame.
struct Envelope {
  union {
    request @0 :Request;
    response @1 :Response;
    sessionInit @2 :SessionInit;
    sessionReply @3 :SessionReply;
  }
}
