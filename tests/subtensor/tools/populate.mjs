// populate.mjs <ws-url> <netuid> <n>: fills subnet <netuid> with n neurons (uids 0..n-1) by
// dev_setStorage in one call, instead of n registrations, for the metagraph benchmark. Sets, where
// the runtime has them (values built with its own types): NetworksAdded, SubnetworkN,
// MaxAllowedUids (raised to n), Keys(netuid, uid), Uids(netuid, hotkey), Owner(hotkey),
// IsNetworkMember(hotkey, netuid), BlockAtRegistration(netuid, uid), Axons(netuid, hotkey)
// (127.0.0.1:10000+uid), TotalHotkeyStake(hotkey), Stake(hotkey, coldkey), and the per-uid vectors
// (Active, Rank, Trust, Consensus, Incentive, Dividends, Emission, ValidatorTrust, ValidatorPermit,
// LastUpdate, PruningScores). Hotkey uid is blake2_256("meritnet-populate-hotkey-<uid>"), its
// coldkey blake2_256("meritnet-populate-coldkey-<uid>"). Then builds one block so the state is in
// a block. Prints {"netuid", "n", "pairs", "set": [items], "skipped": [items absent here], "block"}.
import { blake2AsHex } from '@polkadot/util-crypto';
import { connect, print, scaleHex, run, setStorage, storageValueType, camel } from './common.mjs';

run(async () => {
  const [url, netuidArg, nArg] = process.argv.slice(2);
  if (!url || !netuidArg || !nArg) throw new Error('usage: populate.mjs <ws-url> <netuid> <n>');
  const netuid = Number(netuidArg);
  const n = Number(nArg);
  const { api, provider } = await connect(url);
  const q = api.query.subtensorModule;
  const pairs = [];
  const set = new Set();
  const skipped = new Set();
  const put = (item, keys, value) => {
    const entry = q[camel(item)];
    if (!entry) { skipped.add(item); return; }
    pairs.push([entry.key(...keys), scaleHex(api.createType(storageValueType(api, entry), value))]);
    set.add(item);
  };
  const hot = (u) => blake2AsHex(`meritnet-populate-hotkey-${u}`, 256);
  const cold = (u) => blake2AsHex(`meritnet-populate-coldkey-${u}`, 256);
  const head = (await api.rpc.chain.getHeader()).number.toNumber();

  put('NetworksAdded', [netuid], true);
  put('SubnetworkN', [netuid], n);
  if (q.maxAllowedUids && (await q.maxAllowedUids(netuid)).toNumber() < n) put('MaxAllowedUids', [netuid], n);
  const axonFields = q.axons ? Object.keys(api.createType(storageValueType(api, q.axons)).toJSON()) : [];
  for (let u = 0; u < n; u++) {
    put('Keys', [netuid, u], hot(u));
    put('Uids', [netuid, hot(u)], u);
    put('Owner', [hot(u)], cold(u));
    put('IsNetworkMember', [hot(u), netuid], true);
    put('BlockAtRegistration', [netuid, u], head);
    const axon = { block: head, version: 1, ip: String(0x7f000001), port: 10000 + u, ipType: 4, protocol: 4 };
    put('Axons', [netuid, hot(u)], Object.fromEntries(axonFields.filter((f) => f in axon).map((f) => [f, axon[f]])));
    put('TotalHotkeyStake', [hot(u)], String(1e9 * (u + 1)));
    put('Stake', [hot(u), cold(u)], String(1e9 * (u + 1)));
  }
  const vec = (f) => Array.from({ length: n }, (_, u) => f(u));
  put('Active', [netuid], vec(() => true));
  put('Rank', [netuid], vec((u) => (u * 251) % 65536));
  put('Trust', [netuid], vec((u) => (u * 241) % 65536));
  put('Consensus', [netuid], vec((u) => (u * 239) % 65536));
  put('Incentive', [netuid], vec((u) => (u * 233) % 65536));
  put('Dividends', [netuid], vec((u) => (u * 229) % 65536));
  put('Emission', [netuid], vec((u) => String(1000 * u)));
  put('ValidatorTrust', [netuid], vec((u) => (u * 227) % 65536));
  put('ValidatorPermit', [netuid], vec((u) => u < 64));
  put('LastUpdate', [netuid], vec(() => head));
  put('PruningScores', [netuid], vec((u) => (u * 223) % 65536));

  await setStorage(provider, pairs);
  const block = await provider.send('dev_newBlock', [{ count: 1 }]);
  print({ netuid, n, pairs: pairs.length, set: [...set], skipped: [...skipped], block });
});
