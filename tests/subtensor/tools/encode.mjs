// encode.mjs <ws-url>: encodes calls and signed extrinsics with @polkadot/api, for byte-for-byte
// comparison with meritnet's own encoder. Reads one request or an array of requests (JSON) on stdin,
// prints one result or an array of results (JSON) on stdout.
//
// Call:  {"pallet": "SubtensorModule", "call": "set_weights", "args": [1, [1, 2], [3, 1], 0]}
//   ->   {"callHex": "0x..."}                 (api.tx[pallet][call](...args).method.toHex())
// Sign:  {"seedHex": "0x<32-byte secp256k1 secret>", "call": {pallet, call, args} | "0x<call hex>",
//         "nonce": 0, "tip": 0, "era": {"period": 64, "current": 12} | "immortal",
//         "blockHash": "0x..." (the era's checkpoint block; default and for immortal: genesis),
//         "genesisHash": "0x..." (default: the runtime's System.BlockHash(0), see below),
//         "submit": false}
//   ->   {"publicKey" (33-byte compressed), "accountId" (blake2_256 of it), "ss58",
//         "callHex", "payloadHex" (the signing payload), "signedDataHex" (what is signed: the
//         payload, or its blake2_256 when longer than 256 bytes), "signatureHex" (65 bytes),
//         "extrinsicHex", and with "submit": true "submitted": tx hash or {"error"}}
// Genesis: CheckGenesis compares with the runtime's System.BlockHash(0). On Chopsticks (genesis
// mode) chain_getBlockHash(0), which @polkadot/api takes as api.genesisHash, does not always return
// that value (0x00…00 was seen), and signatures made with it are refused with badProof; so the
// genesis hash signed here is read from System.BlockHash(0) unless the request gives one.
// Names are the metadata's (pallet SubtensorModule, call set_weights); the api's camelCase is derived.
import { Keyring } from '@polkadot/keyring';
import { blake2AsU8a, cryptoWaitReady } from '@polkadot/util-crypto';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import { connect, member, readStdinJson, print, run } from './common.mjs';

function buildCall(api, c) {
  if (typeof c === 'string') return api.createType('Call', c);
  return member(api, 'tx', c.pallet, c.call)(...(c.args || [])).method;
}

async function sign(api, keyring, r) {
  const seed = hexToU8a(r.seedHex);
  if (seed.length !== 32) throw new Error('seedHex must be 32 bytes');
  const pair = keyring.addFromSeed(seed, {}, 'ecdsa');
  const method = buildCall(api, r.call);
  const tx = api.tx(method);
  const immortal = r.era === undefined || r.era === 'immortal';
  const era = immortal
    ? api.createType('ExtrinsicEra', new Uint8Array([0]))
    : api.createType('ExtrinsicEra', { current: r.era.current, period: r.era.period });
  const genesisHash = r.genesisHash || (await api.query.system.blockHash(0)).toHex();
  const blockHash = immortal ? (r.blockHash || genesisHash) : r.blockHash;
  if (!blockHash) throw new Error('a mortal era needs blockHash (the block of era.current)');
  const options = {
    blockHash,
    era,
    genesisHash,
    nonce: r.nonce ?? 0,
    tip: r.tip ?? 0,
    runtimeVersion: api.runtimeVersion,
    signedExtensions: api.registry.signedExtensions,
    version: api.extrinsicVersion,
  };
  // The signing payload exactly as the api builds it for this transaction.
  const payload = api.registry.createType('SignerPayload', {
    ...options,
    address: pair.address,
    blockNumber: immortal ? 0 : r.era.current,
    method,
    runtimeVersion: api.runtimeVersion,
  });
  const payloadU8a = hexToU8a(payload.toRaw().data);
  const signed = payloadU8a.length > 256 ? blake2AsU8a(payloadU8a, 256) : payloadU8a;
  tx.sign(pair, options);
  const out = {
    publicKey: u8aToHex(pair.publicKey),
    accountId: u8aToHex(pair.addressRaw),
    ss58: pair.address,
    callHex: method.toHex(),
    genesisHash,
    payloadHex: u8aToHex(payloadU8a),
    signedDataHex: u8aToHex(signed),
    signatureHex: tx.signature.toHex(),
    extrinsicHex: tx.toHex(),
  };
  // The api's signature must verify over our signing bytes (blake2_256 inside, as Substrate's ecdsa).
  if (!pair.verify(signed, tx.signature.toU8a(), pair.publicKey)) {
    throw new Error('signature does not verify over signedDataHex: payload reconstruction differs from the api');
  }
  if (r.submit) {
    try {
      out.submitted = (await api.rpc.author.submitExtrinsic(tx.toHex())).toHex();
    } catch (e) {
      out.submitted = { error: String(e.message || e) };
    }
  }
  return out;
}

async function one(api, keyring, r) {
  if (r.seedHex) return sign(api, keyring, r);
  return { callHex: buildCall(api, r).toHex() };
}

run(async () => {
  const url = process.argv[2];
  if (!url) throw new Error('usage: encode.mjs <ws-url> < request.json');
  const req = await readStdinJson();
  await cryptoWaitReady();
  const { api } = await connect(url);
  const keyring = new Keyring({ type: 'ecdsa', ss58Format: api.registry.chainSS58 ?? 42 });
  if (Array.isArray(req)) {
    const out = [];
    for (const r of req) out.push(await one(api, keyring, r));
    print(out);
  } else {
    print(await one(api, keyring, req));
  }
});
