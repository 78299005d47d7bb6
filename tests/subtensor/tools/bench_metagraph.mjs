// bench_metagraph.mjs <ws-url> <netuid> [storage items]: reads subnet <netuid>'s metagraph with
// @polkadot/api two ways, timing each and counting JSON-RPC round trips (requests sent through the
// provider), for comparison with meritnet's own sync. Prints JSON:
//   {"runtimeApi": {ms, roundTrips, neurons, bytes}, "storage": {ms, roundTrips, neurons, keys}}
// runtimeApi: one state_call of NeuronInfoRuntimeApi_get_neurons_lite(netuid) (its result is
//   SCALE Vec<NeuronInfoLite>, wrapped in Vec<u8> on runtimes whose API returns bytes; neurons is
//   the vector's length).
// storage: SubnetworkN(netuid), then in one state_queryStorageAt every per-subnet vector and
//   Keys(netuid, uid) for each uid, then in one more the per-hotkey items (Axons(netuid, hotkey),
//   Owner(hotkey), TotalHotkeyStake(hotkey) where present). The items are a comma-separated list
//   argument "Vec:Incentive,Vec:Dividends,Uid:Keys,Hot:Axons,..." (default: the list above plus
//   Rank, Trust, Consensus, Emission, ValidatorTrust, ValidatorPermit, Active, LastUpdate,
//   PruningScores); items the runtime lacks are skipped and listed.
import { compactFromU8a, hexToU8a } from '@polkadot/util';
import { connect, print, run, camel, scaleHex, storageValueType } from './common.mjs';

const DEFAULT = 'Vec:Active,Vec:Rank,Vec:Trust,Vec:Consensus,Vec:Incentive,Vec:Dividends,Vec:Emission,' +
  'Vec:ValidatorTrust,Vec:ValidatorPermit,Vec:LastUpdate,Vec:PruningScores,Uid:Keys,' +
  'Hot:Axons,Hot:Owner,Hot:TotalHotkeyStake';

async function viaRuntimeApi(api, provider, netuid) {
  const before = provider.sends;
  const t0 = performance.now();
  const raw = await provider.send('state_call', ['NeuronInfoRuntimeApi_get_neurons_lite', scaleHex(api.createType('u16', netuid))]);
  const ms = performance.now() - t0;
  let u8a = hexToU8a(raw);
  const meta = api.call.neuronInfoRuntimeApi?.getNeuronsLite?.meta;
  // Bytes-returning runtimes: the result is Vec<u8> holding the encoded Vec<NeuronInfoLite>.
  if (meta && meta.type.toString() === 'Bytes') {
    const [off] = compactFromU8a(u8a);
    u8a = u8a.subarray(off);
  }
  const [, count] = compactFromU8a(u8a);
  return { ms: Math.round(ms * 10) / 10, roundTrips: provider.sends - before, neurons: count.toNumber(), bytes: hexToU8a(raw).length };
}

async function viaStorage(api, provider, netuid, items) {
  const q = api.query.subtensorModule;
  const skipped = [];
  const pick = (kind) => items.filter((s) => s.startsWith(kind + ':')).map((s) => s.slice(kind.length + 1))
    .filter((name) => (q[camel(name)] ? true : (skipped.push(name), false)));
  const before = provider.sends;
  const t0 = performance.now();
  const head = await provider.send('chain_getBlockHash', []);
  const nRaw = await provider.send('state_getStorage', [q.subnetworkN.key(netuid), head]);
  const n = nRaw ? api.createType('u16', hexToU8a(nRaw)).toNumber() : 0;
  const vecs = pick('Vec');
  const uidItems = pick('Uid');
  const keys1 = [...vecs.map((v) => q[camel(v)].key(netuid))];
  for (const item of uidItems) for (let u = 0; u < n; u++) keys1.push(q[camel(item)].key(netuid, u));
  const read = async (keys) => {
    if (keys.length === 0) return new Map();
    const res = await provider.send('state_queryStorageAt', [keys, head]);
    const m = new Map();
    for (const s of res) for (const [k, v] of s.changes) m.set(k, v);
    return m;
  };
  const r1 = await read(keys1);
  const hotkeys = [];
  for (let u = 0; u < n; u++) {
    const v = r1.get(q.keys.key(netuid, u));
    hotkeys.push(v ? api.createType('AccountId32', hexToU8a(v)).toHex() : null);
  }
  for (const v of vecs) {
    const raw = r1.get(q[camel(v)].key(netuid));
    if (raw) api.createType(storageValueType(api, q[camel(v)]), hexToU8a(raw)); // decoded, as a client would
  }
  const hotItems = pick('Hot');
  const keys2 = [];
  for (const item of hotItems) {
    for (const h of hotkeys) {
      if (!h) continue;
      keys2.push(item === 'Axons' ? q.axons.key(netuid, h) : q[camel(item)].key(h));
    }
  }
  const r2 = await read(keys2);
  const ms = performance.now() - t0;
  return { ms: Math.round(ms * 10) / 10, roundTrips: provider.sends - before, neurons: n,
           keys: keys1.length + keys2.length + 1, valuesRead: r1.size + r2.size, skipped };
}

run(async () => {
  const [url, netuidArg, itemsArg] = process.argv.slice(2);
  if (!url || !netuidArg) throw new Error('usage: bench_metagraph.mjs <ws-url> <netuid> [items]');
  const netuid = Number(netuidArg);
  const { api, provider } = await connect(url);
  const items = (itemsArg || DEFAULT).split(',');
  const runtimeApi = await viaRuntimeApi(api, provider, netuid);
  const storage = await viaStorage(api, provider, netuid, items);
  print({ netuid, runtimeApi, storage });
});
