// storage.mjs <ws-url> [batch]: storage keys, raw values and decoded values with @polkadot/api, for
// comparison with meritnet's storage keys and decoder. Names are the metadata's
// (SubtensorModule, Keys); keys are the entry's keys in order, as JSON values the api accepts.
//
// Default: one request or an array of requests on stdin,
//   {"pallet": "SubtensorModule", "item": "Keys", "keys": [1, 0], "at": "0x<block hash>" (optional)}
//   -> {"key": "0x...", "raw": "0x..." | null, "value": <api toJSON, the default when absent>}
//   With "entries": true, "keys" is a prefix of the entry's keys (possibly empty) and every key under
//   it is listed (state_getKeysPaged, then the raw values at one block):
//   -> {"prefix": "0x...", "entries": [{"key", "keys": [<each key arg toJSON>], "raw", "value"}, ...]}
//   sorted by key.
// batch: {"at": "0x<block hash>" | null (head), "items": [{pallet, item, keys}, ...]}
//   -> {"at": hash, "roundTrips": 1, "results": [{key, raw, value}, ...]}: every key read in one
//   state_queryStorageAt at one block hash.
import { hexToU8a } from '@polkadot/util';
import { connect, member, readStdinJson, print, run, storageValueType } from './common.mjs';

function decode(api, entry, raw) {
  const meta = entry.creator.meta;
  const type = storageValueType(api, entry);
  if (raw === null) {
    // Absent: the entry's default (ValueQuery) or null (OptionQuery), as the api reports it.
    return meta.modifier.isOptional ? null : api.createType(type, meta.fallback.toU8a(true)).toJSON();
  }
  // SCALE bytes: a Uint8Array (a hex string would be read as a number's value, not its encoding).
  return api.createType(type, hexToU8a(raw)).toJSON();
}

async function entries(api, provider, r) {
  const entry = member(api, 'query', r.pallet, r.item);
  const at = r.at || (await api.rpc.chain.getBlockHash()).toHex();
  const prefix = entry.keyPrefix(...(r.keys || []));
  const keys = [];
  for (let start = null; ;) {
    const page = await provider.send('state_getKeysPaged', [prefix, 1000, start, at]);
    keys.push(...page);
    if (page.length < 1000) break;
    start = page[page.length - 1];
  }
  keys.sort();
  const rawByKey = new Map();
  if (keys.length) {
    for (const set of await provider.send('state_queryStorageAt', [keys, at])) {
      for (const [k, v] of set.changes) rawByKey.set(k, v);
    }
  }
  return {
    prefix,
    entries: keys.map((key) => {
      const raw = rawByKey.get(key) ?? null;
      const args = api.createType('StorageKey', key).setMeta(entry.creator.meta, entry.creator.section, entry.creator.method).args;
      return { key, keys: args.map((a) => a.toJSON()), raw, value: decode(api, entry, raw) };
    }),
  };
}

async function single(api, provider, r) {
  if (r.entries) return entries(api, provider, r);
  const entry = member(api, 'query', r.pallet, r.item);
  const key = entry.key(...(r.keys || []));
  // The raw JSON-RPC answer (hex or null), not the api's decorated getStorage.
  const raw = await provider.send('state_getStorage', r.at ? [key, r.at] : [key]);
  return { key, raw, value: decode(api, entry, raw) };
}

async function batch(api, provider, req) {
  const at = req.at || (await api.rpc.chain.getBlockHash()).toHex();
  const entries = req.items.map((r) => member(api, 'query', r.pallet, r.item));
  const keys = req.items.map((r, i) => entries[i].key(...(r.keys || [])));
  const before = provider.sends;
  const changes = await provider.send('state_queryStorageAt', [keys, at]);
  const rawByKey = new Map();
  for (const set of changes) for (const [k, v] of set.changes) rawByKey.set(k, v);
  return {
    at,
    roundTrips: provider.sends - before,
    results: keys.map((key, i) => {
      const raw = rawByKey.get(key) ?? null;
      return { key, raw, value: decode(api, entries[i], raw) };
    }),
  };
}

run(async () => {
  const [url, mode] = process.argv.slice(2);
  if (!url || (mode && mode !== 'batch')) throw new Error('usage: storage.mjs <ws-url> [batch] < request.json');
  const req = await readStdinJson();
  const { api, provider } = await connect(url);
  if (mode === 'batch') {
    print(await batch(api, provider, req));
  } else if (Array.isArray(req)) {
    const out = [];
    for (const r of req) out.push(await single(api, provider, r));
    print(out);
  } else {
    print(await single(api, provider, req));
  }
});
