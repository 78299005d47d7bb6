// populate.mjs <ws-url> <netuid> <n>: fills subnet <netuid> with n neurons (uids 0..n-1) by
// dev_setStorage in one call, instead of n registrations, for the metagraph benchmark. Sets, where
// the runtime has them (values built with its own types): NetworksAdded, SubnetworkN,
// MaxAllowedUids (raised to n), Keys(netuid, uid), Uids(netuid, hotkey), Owner(hotkey),
// IsNetworkMember(hotkey, netuid), BlockAtRegistration(netuid, uid), the stake (TotalHotkeyAlpha or
// TotalHotkeySubStake (hotkey, netuid), TotalHotkeyStake(hotkey), Stake(hotkey, coldkey)), and the
// per-uid vectors (Active, Rank, Trust, Consensus, Incentive, Dividends, Emission, ValidatorTrust,
// ValidatorPermit, LastUpdate, PruningScores). Every fourth uid (u % 4 == 0) is a real ECDSA key
// (secp256k1 from seed BLAKE2b-256("meritnet-populate-key-<u>"), hotkey = BLAKE2b-256 of the
// compressed public key, as meritnet's accounts) that committed its public key
// (Commitments.CommitmentOf(netuid, hotkey), one Raw33 field) and serves a meritnet axon (protocol
// 77) at 127.0.0.1:10000+u; other even uids serve a non-meritnet axon (protocol 4); odd uids have
// no axon and hotkey BLAKE2b-256("meritnet-populate-hotkey-<u>"). Coldkey of uid u is
// BLAKE2b-256("meritnet-populate-coldkey-<u>"). Then builds one block so the state is in a block.
// Prints {"netuid", "n", "pairs", "set": [items], "skipped": [items absent here], "block",
// "committed", "axons"}.
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex, blake2AsU8a, cryptoWaitReady, secp256k1PairFromSeed } from '@polkadot/util-crypto';
import { connect, print, scaleHex, run, setStorage, storageValueType, camel } from './common.mjs';

run(async () => {
  const [url, netuidArg, nArg] = process.argv.slice(2);
  if (!url || !netuidArg || !nArg) throw new Error('usage: populate.mjs <ws-url> <netuid> <n>');
  const netuid = Number(netuidArg);
  const n = Number(nArg);
  const { api, provider } = await connect(url);
  await cryptoWaitReady();
  const q = api.query.subtensorModule;
  const pairs = [];
  const set = new Set();
  const skipped = new Set();
  const putIn = (pallet, item, keys, value) => {
    const entry = api.query[camel(pallet)]?.[camel(item)];
    if (!entry) { skipped.add(`${pallet}.${item}`); return; }
    pairs.push([entry.key(...keys), scaleHex(api.createType(storageValueType(api, entry), value))]);
    set.add(pallet === 'SubtensorModule' ? item : `${pallet}.${item}`);
  };
  const put = (item, keys, value) => putIn('SubtensorModule', item, keys, value);
  // Compressed secp256k1 public key of the uids with a real ECDSA key (u % 4 == 0).
  const pubs = new Map();
  const pub = (u) => {
    if (!pubs.has(u)) pubs.set(u, u8aToHex(secp256k1PairFromSeed(blake2AsU8a(`meritnet-populate-key-${u}`, 256)).publicKey));
    return pubs.get(u);
  };
  const hot = (u) => (u % 4 === 0 ? blake2AsHex(pub(u), 256) : blake2AsHex(`meritnet-populate-hotkey-${u}`, 256));
  const cold = (u) => blake2AsHex(`meritnet-populate-coldkey-${u}`, 256);
  const head = (await api.rpc.chain.getHeader()).number.toNumber();

  put('NetworksAdded', [netuid], true);
  put('SubnetworkN', [netuid], n);
  if (q.maxAllowedUids && (await q.maxAllowedUids(netuid)).toNumber() < n) put('MaxAllowedUids', [netuid], n);
  const axonFields = q.axons ? Object.keys(api.createType(storageValueType(api, q.axons)).toJSON()) : [];
  let axons = 0;
  let committed = 0;
  for (let u = 0; u < n; u++) {
    put('Keys', [netuid, u], hot(u));
    put('Uids', [netuid, hot(u)], u);
    put('Owner', [hot(u)], cold(u));
    put('IsNetworkMember', [hot(u), netuid], true);
    put('BlockAtRegistration', [netuid, u], head);
    if (u % 2 === 0) {
      const axon = { block: head, version: 1, ip: String(0x7f000001), port: 10000 + u, ipType: 4, protocol: u % 4 === 0 ? 77 : 4 };
      put('Axons', [netuid, hot(u)], Object.fromEntries(axonFields.filter((f) => f in axon).map((f) => [f, axon[f]])));
      axons++;
    }
    if (u % 4 === 0) {
      putIn('Commitments', 'CommitmentOf', [netuid, hot(u)], { deposit: 0, block: head, info: { fields: [{ Raw33: pub(u) }] } });
      committed++;
    }
    if (q.totalHotkeyAlpha) put('TotalHotkeyAlpha', [hot(u), netuid], String(1e9 * (u + 1)));
    else if (q.totalHotkeySubStake) put('TotalHotkeySubStake', [hot(u), netuid], String(1e9 * (u + 1)));
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
  print({ netuid, n, pairs: pairs.length, set: [...set], skipped: [...skipped], block, committed, axons });
});
