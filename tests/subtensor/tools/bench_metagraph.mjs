// bench_metagraph.mjs <ws-url> <netuid> [runs] [signs]: the @polkadot/api side of the subtensor
// benchmark (tools/perf/subtensor.sh), for comparison with meritnet's SubtensorChain::metagraph()
// and extrinsic building in the same run. Round trips are the JSON-RPC requests sent through the
// provider. Each metagraph mode runs `runs` times (default 10); ms are wall time per read; for
// storage, wire_ms is the part spent from sending each request to its parsed JSON reply (the
// node, the socket and JSON.parse), the rest being the api's key building and decoding.
// Prints JSON: {"netuid", "runs", "storage": {...}, "runtimeApi": {...}, "sign": {...}}.
//
// storage: exactly the items SubtensorChain::metagraph() reads, in the same number of round trips
//   (the api has no way to batch reads whose keys depend on earlier results): chain_getBlockHash,
//   chain_getHeader at it, then three state_queryStorageAt at that hash through api.rpc (values
//   decoded by the api with the runtime's types):
//   1. NetworksAdded, SubnetworkN, the vectors Active, Consensus, Incentive, Dividends, Emission,
//      LastUpdate, ValidatorTrust, ValidatorPermit, and the hyperparameters the runtime has
//      (Tempo, WeightsSetRateLimit, ... the list in subtensor_chain.cpp);
//   2. Keys(netuid, uid) and BlockAtRegistration(netuid, uid) for every uid;
//   3. per hotkey: Owner, Axons(netuid, hotkey), the stake (TotalHotkeyAlpha or
//      TotalHotkeySubStake (hotkey, netuid), else TotalHotkeyStake(hotkey)) and
//      Commitments.CommitmentOf(netuid, hotkey) where the runtime has them.
//   Then one plain object per neuron (the same fields as meritnet's NeuronInfo). api.query.x.entries
//   would cost more round trips (state_getKeysPaged pages, then the values), so it is not used.
// runtimeApi: NeuronInfoRuntimeApi_get_neurons_lite(netuid) in one state_call. Decoded by
//   api.call when the runtime types its result; on runtimes that return Vec<u8> (spec 200) the
//   metadata has no type for the neurons, so only the outer length prefix and the vector's length
//   are read ("decoded": false).
// sign: build and sign a set_weights of 256 uids (dests 0..255, weights 65535-u, version_key 0)
//   offline: api.tx.subtensorModule.setWeights(...) (the call createType'd), then Extrinsic.sign
//   with an ecdsa keypair (which createType's the ExtrinsicPayload from the signed extensions and
//   signs it), then toU8a(); mortal era (period 64, current 1000), nonce = iteration. `signs`
//   iterations (default 300) after 20 not timed.
import { Keyring } from '@polkadot/keyring';
import { compactFromU8a, hexToU8a } from '@polkadot/util';
import { blake2AsU8a, cryptoWaitReady } from '@polkadot/util-crypto';
import { connect, print, run, camel, scaleHex } from './common.mjs';

const VECTORS = ['Active', 'Consensus', 'Incentive', 'Dividends', 'Emission', 'LastUpdate', 'ValidatorTrust', 'ValidatorPermit'];
const HYPERS = ['Tempo', 'WeightsSetRateLimit', 'WeightsVersionKey', 'CommitRevealWeightsEnabled', 'RevealPeriodEpochs',
  'MinAllowedWeights', 'MaxWeightsLimit', 'MaxAllowedUids', 'MaxAllowedValidators', 'ImmunityPeriod', 'ActivityCutoff',
  'Kappa', 'Rho', 'BondsMovingAverage', 'AdjustmentInterval', 'TargetRegistrationsPerInterval', 'MinBurn', 'MaxBurn',
  'ServingRateLimit', 'NetworkRegistrationAllowed', 'LiquidAlphaOn'];

const round = (x) => Math.round(x * 100) / 100;
function summary(times) {
  const s = [...times].sort((a, b) => a - b);
  return { ms_median: round(s[Math.floor(s.length / 2)]), ms_best: round(s[0]) };
}

// A queryStorageAt key for entry with its map keys (the StorageKey input ApiPromise.queryMulti
// passes on: [creator] or [creator, [keys...]]).
function storageKeyArg(entry, ...args) {
  return entry.creator.meta.type.isPlain ? [entry.creator] : [entry.creator, args];
}

async function viaStorage(api, provider, netuid) {
  const q = api.query.subtensorModule;
  const commitmentOf = api.query.commitments?.commitmentOf;
  const stakeItem = q.totalHotkeyAlpha ? 'alpha' : q.totalHotkeySubStake ? 'substake' : q.totalHotkeyStake ? 'stake' : null;
  const before = provider.sends;
  const sendMs0 = provider.sendMs;
  const t0 = performance.now();
  const head = await api.rpc.chain.getBlockHash();
  const header = await api.rpc.chain.getHeader(head);
  const hypers = HYPERS.filter((h) => q[camel(h)]);
  const first = await api.rpc.state.queryStorageAt([
    storageKeyArg(q.networksAdded, netuid), storageKeyArg(q.subnetworkN, netuid),
    ...VECTORS.map((v) => storageKeyArg(q[camel(v)], netuid)),
    ...hypers.map((h) => storageKeyArg(q[camel(h)], netuid))], head);
  if (!first[0].isTrue) throw new Error(`no subnet ${netuid}`);
  const n = first[1].toNumber();
  const vec = Object.fromEntries(VECTORS.map((v, i) => [v, first[2 + i]]));
  const hyperparameters = Object.fromEntries(hypers.map((h, i) => [h, first[2 + VECTORS.length + i].toJSON()]));
  const k2 = [];
  for (let u = 0; u < n; u++) k2.push(storageKeyArg(q.keys, netuid, u), storageKeyArg(q.blockAtRegistration, netuid, u));
  const second = n ? await api.rpc.state.queryStorageAt(k2, head) : [];
  const hotkeys = [];
  for (let u = 0; u < n; u++) hotkeys.push(second[2 * u]);
  const k3 = [];
  let per = 0;
  for (const h of hotkeys) {
    const start = k3.length;
    k3.push(storageKeyArg(q.owner, h), storageKeyArg(q.axons, netuid, h));
    if (stakeItem === 'alpha') k3.push(storageKeyArg(q.totalHotkeyAlpha, h, netuid));
    else if (stakeItem === 'substake') k3.push(storageKeyArg(q.totalHotkeySubStake, h, netuid));
    else if (stakeItem === 'stake') k3.push(storageKeyArg(q.totalHotkeyStake, h));
    if (commitmentOf) k3.push(storageKeyArg(commitmentOf, netuid, h));
    per = k3.length - start;
  }
  const third = n ? await api.rpc.state.queryStorageAt(k3, head) : [];
  const at = (codec, u) => (u < codec.length ? codec[u] : null);
  const neurons = [];
  let axons = 0;
  let keys = 0;
  for (let u = 0; u < n; u++) {
    let k = u * per;
    const coldkey = third[k++].toHex();
    const axonOpt = third[k++];
    const stake = stakeItem ? third[k++].toBigInt() : 0n;
    let publicKey = null;
    if (commitmentOf) {
      const reg = third[k++];
      const r = reg.isSome ? reg.unwrap() : reg.isEmpty ? null : reg;
      // The committed key: a Raw33 field whose BLAKE2b-256 is the hotkey (as meritnet checks it).
      for (const f of r ? r.info.fields : []) {
        if (f.isRaw33 && Buffer.from(blake2AsU8a(f.asRaw33, 256)).equals(Buffer.from(hotkeys[u].toU8a()))) publicKey = f.asRaw33.toHex();
      }
    }
    const axon = axonOpt.isSome !== undefined ? (axonOpt.isSome ? axonOpt.unwrap() : null) : axonOpt;
    const meritAxon = axon && axon.protocol.toNumber() === 77 && publicKey
      ? { ip: axon.ip.toString(), port: axon.port.toNumber(), ipType: axon.ipType.toNumber(), block: axon.block.toNumber() } : null;
    if (meritAxon) axons++;
    if (publicKey) keys++;
    neurons.push({
      uid: u, hotkey: hotkeys[u].toHex(), coldkey, stake, publicKey,
      blockAtRegistration: second[2 * u + 1].toNumber(),
      active: at(vec.Active, u)?.isTrue ?? false, validatorPermit: at(vec.ValidatorPermit, u)?.isTrue ?? false,
      consensus: at(vec.Consensus, u)?.toNumber() ?? 0, incentive: at(vec.Incentive, u)?.toNumber() ?? 0,
      dividends: at(vec.Dividends, u)?.toNumber() ?? 0, validatorTrust: at(vec.ValidatorTrust, u)?.toNumber() ?? 0,
      emission: at(vec.Emission, u)?.toBigInt() ?? 0n, lastUpdate: at(vec.LastUpdate, u)?.toNumber() ?? 0,
      axon: meritAxon,
    });
  }
  const ms = performance.now() - t0;
  return { ms, wireMs: provider.sendMs - sendMs0, roundTrips: provider.sends - before, neurons: neurons.length, axons, committedKeys: keys,
    staked: neurons.filter((x) => x.stake !== 0n).length, keys: 2 + VECTORS.length + hypers.length + k2.length + k3.length,
    block: header.number.toNumber(), tempo: hyperparameters.Tempo ?? null };
}

async function viaRuntimeApi(api, provider, netuid) {
  const fn = api.call.neuronInfoRuntimeApi?.getNeuronsLite;
  const typed = fn && fn.meta.type.toString() !== 'Bytes';
  const before = provider.sends;
  const t0 = performance.now();
  let neurons;
  let bytes = null;
  if (typed) {
    const res = await fn(netuid);
    neurons = res.toJSON().length;
  } else {
    const raw = await provider.send('state_call', ['NeuronInfoRuntimeApi_get_neurons_lite', scaleHex(api.createType('u16', netuid))]);
    let u8a = hexToU8a(raw);
    bytes = u8a.length;
    const [off] = compactFromU8a(u8a); // Vec<u8> holding the encoded Vec<NeuronInfoLite>
    u8a = u8a.subarray(off);
    neurons = compactFromU8a(u8a)[1].toNumber();
  }
  return { ms: performance.now() - t0, roundTrips: provider.sends - before, neurons, bytes, decoded: Boolean(typed) };
}

function buildAndSign(api, signs) {
  const keyring = new Keyring({ type: 'ecdsa' });
  const pair = keyring.addFromSeed(blake2AsU8a('meritnet-bench-signer', 256), {}, 'ecdsa');
  const dests = Array.from({ length: 256 }, (_, u) => u);
  const weights = dests.map((u) => 65535 - u);
  const genesisHash = api.genesisHash.toHex();
  const era = api.createType('ExtrinsicEra', { current: 1000, period: 64 });
  const one = (nonce) => {
    const tx = api.tx.subtensorModule.setWeights(3, dests, weights, 0);
    tx.sign(pair, { blockHash: genesisHash, era, genesisHash, nonce, tip: 0, runtimeVersion: api.runtimeVersion,
      signedExtensions: api.registry.signedExtensions, version: api.extrinsicVersion });
    return tx.toU8a().length;
  };
  for (let i = 0; i < 20; i++) one(i);
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < signs; i++) bytes = one(i);
  return { us: round(((performance.now() - t0) * 1000) / signs), n: signs, bytes };
}

run(async () => {
  const [url, netuidArg, runsArg, signsArg] = process.argv.slice(2);
  if (!url || !netuidArg) throw new Error('usage: bench_metagraph.mjs <ws-url> <netuid> [runs] [signs]');
  const netuid = Number(netuidArg);
  const runs = Math.max(1, Number(runsArg || 10));
  const signs = Math.max(1, Number(signsArg || 300));
  await cryptoWaitReady();
  const { api, provider } = await connect(url);
  const out = { netuid, runs };
  for (const [name, fn] of [['storage', viaStorage], ['runtimeApi', viaRuntimeApi]]) {
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await fn(api, provider, netuid));
    const last = results[results.length - 1];
    out[name] = { ...summary(results.map((r) => r.ms)), ...last };
    delete out[name].ms;
    // The fewest requests a read took, and the most: the first storage read also fetches the
    // block's header and runtime version for the api's registry at that hash (memoized after).
    out[name].roundTrips = Math.min(...results.map((r) => r.roundTrips));
    out[name].roundTripsMax = Math.max(...results.map((r) => r.roundTrips));
    if (last.wireMs !== undefined) {
      const w = summary(results.map((r) => r.wireMs));
      out[name].wire_ms_median = w.ms_median;
      out[name].wire_ms_best = w.ms_best;
      delete out[name].wireMs;
    }
  }
  out.sign = buildAndSign(api, signs);
  print(out);
});
