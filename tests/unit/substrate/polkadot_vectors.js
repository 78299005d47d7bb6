// Prints the expected bytes of extrinsic_test.cpp, computed with @polkadot/api (pinned by the
// subtensor harness's package.json): `NODE_PATH=<node_modules> node polkadot_vectors.js <fixtures dir> spec218`.
// Same inputs as the C++ test: set_weights(netuid 1, dests 0..n-1, weights, version_key 7),
// an ECDSA keyring pair from a fixed 32-byte seed, nonce 5, tip 0, spec 218, tx version 1,
// genesis 0x11.., mortal era {period 64, current 1000} at block hash 0x22.. or immortal.
const { TypeRegistry, Metadata, decorateExtrinsics } = require('@polkadot/types');
const { Keyring } = require('@polkadot/keyring');
const { cryptoWaitReady } = require('@polkadot/util-crypto');
const { hexToU8a, u8aToHex } = require('@polkadot/util');
const fs = require('fs');

(async () => {
  await cryptoWaitReady();
  const [dir, spec] = process.argv.slice(2);
  const hex = fs.readFileSync(`${dir}/${spec}_state_getMetadata.hex`, 'utf8').trim();
  const registry = new TypeRegistry();
  const metadata = new Metadata(registry, hex);
  registry.setMetadata(metadata);
  const keyring = new Keyring({ type: 'ecdsa' });
  const pair = keyring.addFromSeed(hexToU8a('0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318'));
  const ex = decorateExtrinsics(registry, metadata.asLatest, metadata.version);
  for (const [n, mortal] of [[2, true], [2, false], [150, true]]) {
    const dests = [];
    const weights = [];
    for (let i = 0; i < n; i++) {
      dests.push(i);
      weights.push(i === 0 ? 65535 : i);
    }
    const call = ex.subtensorModule.setWeights(1, dests, weights, 7);
    const extrinsic = registry.createType('Extrinsic', call, { version: 4 });
    const genesisHash = '0x' + '11'.repeat(32);
    const blockHash = mortal ? '0x' + '22'.repeat(32) : genesisHash;
    const era = mortal ? registry.createType('ExtrinsicEra', { current: 1000, period: 64 })
                       : registry.createType('ExtrinsicEra', '0x00');
    const opts = {
      blockHash, genesisHash, era, nonce: 5, tip: 0,
      runtimeVersion: { specVersion: 218, transactionVersion: 1 },
      signedExtensions: registry.signedExtensions,
    };
    const payload = registry.createType('ExtrinsicPayload',
      { method: call.toHex(), ...opts, specVersion: 218, transactionVersion: 1, version: 4, mode: 0 }, { version: 4 });
    extrinsic.sign(pair, opts);
    console.log(JSON.stringify({ n, mortal, payload: u8aToHex(payload.toU8a({ method: true })),
                                 extrinsic: extrinsic.toHex(), hash: extrinsic.hash.toHex() }));
  }
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
