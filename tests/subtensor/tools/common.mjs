// Shared by the @polkadot/api tools: connect to a Chopsticks node, map metadata names to the api's
// camelCase, read a JSON request from stdin, count RPC round trips, build storage values by type.
import { ApiPromise, WsProvider } from '@polkadot/api';
import { stringCamelCase, u8aToHex } from '@polkadot/util';

// Loopback only: the tools are for tests, and no test may reach another address.
export function checkLoopback(url) {
  const u = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
    throw new Error(`refusing to connect to ${url}: the subtensor tools only talk to loopback`);
  }
}

// connect(url): ApiPromise on a WsProvider with no automatic reconnection (a dead node is an error,
// not a hang). provider.sends counts the JSON-RPC requests sent; provider.sendMs sums the time
// from each send to its parsed JSON reply (the socket, the node and JSON.parse; not the api's
// decoding).
export async function connect(url) {
  checkLoopback(url);
  const provider = new WsProvider(url, false, {}, 60000);
  provider.sends = 0;
  provider.sendMs = 0;
  const send = provider.send.bind(provider);
  provider.send = (...a) => {
    provider.sends++;
    const t0 = performance.now();
    const done = () => { provider.sendMs += performance.now() - t0; };
    const p = send(...a);
    p.then(done, done);
    return p;
  };
  await provider.connect();
  const api = await ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true });
  return { api, provider };
}

export async function readStdinJson() {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return JSON.parse(text);
}

export const camel = (name) => stringCamelCase(name);

// The api's section for a metadata pallet name (SubtensorModule -> subtensorModule), or an error
// naming what exists.
export function section(api, kind, pallet) {
  const s = api[kind][camel(pallet)];
  if (!s) throw new Error(`no pallet ${pallet} in api.${kind} (have: ${Object.keys(api[kind]).join(', ')})`);
  return s;
}

export function member(api, kind, pallet, name) {
  const m = section(api, kind, pallet)[camel(name)];
  if (!m) throw new Error(`no ${kind} ${pallet}.${name}`);
  return m;
}

// The storage entry's value type as a registry type name (Lookup<id>), from the runtime's metadata.
export function storageValueType(api, entry) {
  const meta = entry.creator.meta;
  const id = meta.type.isPlain ? meta.type.asPlain : meta.type.asMap.value;
  return api.registry.createLookupType(id);
}

// scaleHex(codec): the SCALE encoding as hex. (codec.toHex() of an integer is its value in
// big-endian hex, not its encoding, so storage values must go through toU8a.)
export const scaleHex = (codec) => u8aToHex(codec.toU8a());

// setStorage(provider, pairs): Chopsticks' dev_setStorage with raw [keyHex, valueHex|null] pairs.
export async function setStorage(provider, pairs) {
  return provider.send('dev_setStorage', [pairs]);
}

export function print(obj) {
  process.stdout.write(JSON.stringify(obj, null, 1) + '\n');
}

// run(main): prints an error as {"error": "..."} on stdout and exits 1; exits 0 otherwise (the
// provider keeps the event loop alive).
export function run(main) {
  main().then(() => process.exit(0), (e) => {
    print({ error: String(e && e.message ? e.message : e) });
    process.exit(1);
  });
}
