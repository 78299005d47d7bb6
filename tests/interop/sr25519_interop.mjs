// The JavaScript side of the sr25519 interoperability test (run.sh): reads the C++ tool's
// "name hex" lines (argv[2]), checks them with @polkadot/wasm-crypto and @scure/sr25519, and
// prints "jsig_<lib> hex" lines with each library's own signature of the same message for the
// C++ side to verify. Exits 1 naming the first disagreement.
import { readFileSync } from 'node:fs';
import * as wasm from '@polkadot/wasm-crypto';
import * as scure from '@scure/sr25519';

const hex = (u8) => Buffer.from(u8).toString('hex');
const bytes = (h) => new Uint8Array(Buffer.from(h, 'hex'));
const c = Object.fromEntries(
  readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => l.split(' ')));

let failed = false;
function expect(what, ok) {
  console.error(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failed = true;
}

await wasm.waitReady();
const mini = bytes(c.mini);
const msg = bytes(c.msg);
const pub = bytes(c.pub);

const pair = wasm.sr25519KeypairFromSeed(mini);  // ed25519-form secret (64) ‖ public (32)
expect('wasm-crypto: public key from the mini secret', hex(pair.subarray(64)) === c.pub);
expect('wasm-crypto: secret is the ed25519 form', hex(pair.subarray(0, 64)) === c.sk_ed);
const scureSecret = scure.secretFromSeed(mini);
expect('@scure: public key from the mini secret', hex(scure.getPublicKey(scureSecret)) === c.pub);
expect('@scure: secretFromSeed is the ed25519 form', hex(scureSecret) === c.sk_ed);

expect('wasm-crypto verifies the C++ signature', wasm.sr25519Verify(bytes(c.sig), msg, pub));
expect('@scure verifies the C++ signature', scure.verify(msg, bytes(c.sig), pub));
expect('wasm-crypto verifies the C++ fixed-randomness signature', wasm.sr25519Verify(bytes(c.sigdet), msg, pub));
const scureDet = scure.sign(scureSecret, msg, bytes(c.rnd));
expect('@scure signature with the same randomness is byte-identical', hex(scureDet) === c.sigdet);
const tampered = bytes(c.sig);
tampered[10] ^= 1;
expect('wasm-crypto rejects a tampered C++ signature', !wasm.sr25519Verify(tampered, msg, pub));

expect('wasm-crypto: hard derivation gives the same public key',
  hex(wasm.sr25519DeriveKeypairHard(pair, bytes(c.hardcc)).subarray(64)) === c.hardpub);
expect('wasm-crypto: soft derivation gives the same public key',
  hex(wasm.sr25519DeriveKeypairSoft(pair, bytes(c.softcc)).subarray(64)) === c.softpub);
expect('wasm-crypto: public-only soft derivation gives the same public key',
  hex(wasm.sr25519DerivePublicSoft(pub, bytes(c.softcc))) === c.softpub);

console.log(`jsig_wasm ${hex(wasm.sr25519Sign(pub, pair.subarray(0, 64), msg))}`);
console.log(`jsig_scure ${hex(scure.sign(scureSecret, msg))}`);
process.exit(failed ? 1 : 0);
