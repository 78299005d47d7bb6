// setup.mjs <ws-url> <command> [args...]: Chopsticks dev helpers for the end-to-end tests. Every
// value is built with the runtime's own types from its metadata (api.query[pallet][item].key(...),
// api.createType), so the same command works on spec 200 and spec 218. Prints JSON.
//
//   fund <ss58|0x accountId> <rao>          System.Account(who).data.free = rao (providers >= 1)
//   sudo-key <ss58|0x accountId>            Sudo.Key = who
//   set-axon <netuid> <hotkey> <ip> <port> <protocol> [version] [placeholder1]
//                                           SubtensorModule.Axons(netuid, hotkey) = AxonInfo for an
//                                           IPv4 address (serve_axon refuses loopback ones); the
//                                           AxonInfo fields are read from the metadata; meritnet's
//                                           serve_axon puts the hotkey's scheme tag in placeholder1
//                                           (1 for sr25519)
//   set-storage <Pallet> <Item> <keys json array> <value json>
//                                           any storage entry (names as in the metadata)
//   get-storage <Pallet> <Item> <keys json array>
//                                           its value as JSON (toJSON)
//   new-blocks <n>                          dev_newBlock with count n; prints the new head
//   batch                                   several of the above in one connection: a JSON array
//                                           of [command, args...] on stdin; prints the results
// dev_setStorage takes effect at once on the head; the next block is built on it.
import { connect, member, readStdinJson, scaleHex, print, run, setStorage, storageValueType } from './common.mjs';

async function setEntry(api, pallet, item, keys, value) {
  const entry = member(api, 'query', pallet, item);
  const key = entry.key(...keys);
  const valueHex = value === null ? null : scaleHex(api.createType(storageValueType(api, entry), value));
  await setStorage(api.meritProvider, [[key, valueHex]]);
  return { key, valueHex };
}

function ipv4ToInt(ip) {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}

const commands = {
  async fund(api, who, rao) {
    const account = (await api.query.system.account(who)).toJSON();
    account.data.free = BigInt(rao).toString();
    if (!account.providers) account.providers = 1;
    const r = await setEntry(api, 'System', 'Account', [who], account);
    return { ...r, account: (await api.query.system.account(who)).toJSON() };
  },
  async 'sudo-key'(api, who) {
    const r = await setEntry(api, 'Sudo', 'Key', [], who);
    return { ...r, sudo: (await api.query.sudo.key()).toJSON() };
  },
  async 'set-axon'(api, netuid, hotkey, ip, port, protocol, version = '0', placeholder1 = '0') {
    const entry = member(api, 'query', 'SubtensorModule', 'Axons');
    const typeName = storageValueType(api, entry);
    // Field names of AxonInfo in this runtime: fill the ones we know, leave the rest zero.
    const fields = Object.keys(api.createType(typeName).toJSON());
    const head = (await api.rpc.chain.getHeader()).number.toNumber();
    const known = { block: head, version: Number(version), ip: ipv4ToInt(ip).toString(), port: Number(port),
                    ipType: 4, protocol: Number(protocol), placeholder1: Number(placeholder1) };
    for (const f of ['ip', 'port', 'ipType', 'protocol']) {
      if (!fields.includes(f)) throw new Error(`AxonInfo of this runtime has no field ${f} (fields: ${fields.join(', ')})`);
    }
    const value = {};
    for (const f of fields) if (f in known) value[f] = known[f];
    const r = await setEntry(api, 'SubtensorModule', 'Axons', [Number(netuid), hotkey], value);
    return { ...r, fields, axon: (await entry(Number(netuid), hotkey)).toJSON() };
  },
  async 'set-storage'(api, pallet, item, keys, value) {
    const r = await setEntry(api, pallet, item, JSON.parse(keys), JSON.parse(value));
    return { ...r, value: (await member(api, 'query', pallet, item)(...JSON.parse(keys))).toJSON() };
  },
  async 'get-storage'(api, pallet, item, keys) {
    const entry = member(api, 'query', pallet, item);
    const k = JSON.parse(keys || '[]');
    return { key: entry.key(...k), value: (await entry(...k)).toJSON() };
  },
  async batch(api) {
    const out = [];
    for (const [cmd, ...args] of await readStdinJson()) {
      if (!commands[cmd] || cmd === 'batch') throw new Error(`batch: unknown command ${cmd}`);
      out.push(await commands[cmd](api, ...args));
    }
    return out;
  },
  async 'new-blocks'(api, n) {
    const hash = await api.meritProvider.send('dev_newBlock', [{ count: Number(n) }]);
    const header = await api.rpc.chain.getHeader(hash);
    return { hash, number: header.number.toNumber() };
  },
};

run(async () => {
  const [url, cmd, ...args] = process.argv.slice(2);
  if (!url || !commands[cmd]) throw new Error(`usage: setup.mjs <ws-url> ${Object.keys(commands).join('|')} args...`);
  const { api, provider } = await connect(url);
  api.meritProvider = provider;
  print(await commands[cmd](api, ...args));
});
