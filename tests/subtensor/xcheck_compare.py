#!/usr/bin/env python3
"""Compares merit_substrate's output (substrate_xcheck) with @polkadot/api's (encode.mjs /
storage.mjs) for the same requests; prints one line per item, the first difference on failure,
and exits 1 if anything differs.

  xcheck_compare.py encode|storage OURS.json THEIRS.json

encode: every field @polkadot/api printed (callHex, publicKey, accountId, ss58, genesisHash,
payloadHex, signedDataHex, signatureHex, extrinsicHex) must be byte-identical in ours.
storage: key, prefix and raw value hex must be identical; decoded values and decoded keys must be
equal after this normalisation, applied to the pair (ours, theirs) walking both trees together:
  - objects: keys are matched after dropping '_' and lower-casing (the api camelCases field and
    variant names: ip_type -> ipType, Raw33 -> raw33); both must have the same keys;
  - arrays: same length, element by element;
  - integers: ours is a JSON integer or (u128 and wider) a decimal string; theirs a JSON integer,
    a decimal string, or "0x" hex (the api prints integers that do not fit 2^53 as hex); equal as
    integers. Only applied when ours is an integer, so our "0x" byte strings are never read as
    numbers;
  - account ids: ours "0x" + 64 hex digits, theirs an SS58 address (the api prints AccountId32 as
    SS58): the address's checksum must be valid and its 32 bytes equal ours;
  - other strings: equal (hex case-insensitively); null and booleans: equal.
"""
import hashlib
import json
import sys

B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'


def ss58_account(addr):
    """The 32-byte account of an SS58 address (one-byte prefix), or None if not a valid one."""
    n = 0
    for c in addr:
        if c not in B58:
            return None
        n = n * 58 + B58.index(c)
    raw = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    raw = b'\0' * (len(addr) - len(addr.lstrip('1'))) + raw
    if len(raw) != 35:
        return None
    check = hashlib.blake2b(b'SS58PRE' + raw[:33], digest_size=64).digest()[:2]
    return raw[1:33] if check == raw[33:] else None


def as_int(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        if v.isdigit():
            return int(v)
        if v.startswith('0x') and len(v) > 2:
            try:
                return int(v, 16)
            except ValueError:
                return None
    return None


def norm_key(k):
    return k.replace('_', '').lower()


def diff(ours, theirs, path='value'):
    """None when equal after the normalisation above, else a description of the first difference."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        o = {norm_key(k): v for k, v in ours.items()}
        t = {norm_key(k): v for k, v in theirs.items()}
        if set(o) != set(t):
            return f'{path}: keys {sorted(ours)} vs {sorted(theirs)}'
        for k in sorted(o):
            d = diff(o[k], t[k], f'{path}.{k}')
            if d:
                return d
        return None
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return f'{path}: {len(ours)} elements vs {len(theirs)}'
        for i, (a, b) in enumerate(zip(ours, theirs)):
            d = diff(a, b, f'{path}[{i}]')
            if d:
                return d
        return None
    if (isinstance(ours, int) and not isinstance(ours, bool)) or (isinstance(ours, str) and ours.isdigit()):
        if as_int(ours) is not None and as_int(ours) == as_int(theirs):
            return None
        return f'{path}: {ours!r} vs {theirs!r}'
    if isinstance(ours, str) and isinstance(theirs, str):
        if ours.startswith('0x') and len(ours) == 66 and not theirs.startswith('0x'):
            acct = ss58_account(theirs)
            if acct is not None and acct.hex() == ours[2:].lower():
                return None
            return f'{path}: {ours} vs {theirs} (not the same account)'
        if ours.startswith('0x') and theirs.startswith('0x'):
            return None if ours.lower() == theirs.lower() else f'{path}: {ours} vs {theirs}'
        return None if ours == theirs else f'{path}: {ours!r} vs {theirs!r}'
    return None if ours == theirs else f'{path}: {ours!r} vs {theirs!r}'


def hex_diff(name, a, b):
    """The first differing byte of two hex strings, or None when identical."""
    if a == b:
        return None
    if not isinstance(a, str) or not isinstance(b, str):
        return f'{name}: {a!r} vs {b!r}'
    x, y = a.removeprefix('0x'), b.removeprefix('0x')
    i = next((k for k in range(0, min(len(x), len(y)), 2) if x[k:k + 2] != y[k:k + 2]), min(len(x), len(y)))
    return (f'{name}: first difference at byte {i // 2} (ours {len(x) // 2} bytes, theirs {len(y) // 2}): '
            f'ours ...{x[max(0, i - 8):i + 16]}... theirs ...{y[max(0, i - 8):i + 16]}...')


def label(req):
    if 'seedHex' in req:
        c = req['call']
        name = c if isinstance(c, str) else f"{c['pallet']}.{c['call']}"
        return f"signed {name[:24]} nonce {req.get('nonce', 0)} tip {req.get('tip', 0)} era {json.dumps(req.get('era', 'immortal'))}"
    if 'item' in req:
        return f"{req['pallet']}.{req['item']}{json.dumps(req.get('keys', []))}{' entries' if req.get('entries') else ''}"
    return f"{req['pallet']}.{req['call']}"


def compare_encode(o, t):
    for field in t:
        if field == 'submitted':
            continue
        d = hex_diff(field, o.get(field), t[field])
        if d:
            return d
    return None


def compare_storage(o, t):
    if 'entries' in t:
        d = hex_diff('prefix', o.get('prefix'), t['prefix'])
        if d:
            return d
        if len(o.get('entries', [])) != len(t['entries']):
            return f"{len(o.get('entries', []))} entries vs {len(t['entries'])}"
        for i, (a, b) in enumerate(zip(o['entries'], t['entries'])):
            d = (hex_diff(f'entries[{i}].key', a['key'], b['key']) or hex_diff(f'entries[{i}].raw', a['raw'], b['raw'])
                 or diff(a['keys'], b['keys'], f'entries[{i}].keys') or diff(a['value'], b['value'], f'entries[{i}].value'))
            if d:
                return d
        return None
    return hex_diff('key', o.get('key'), t['key']) or hex_diff('raw', o.get('raw'), t['raw']) or diff(o.get('value'), t['value'])


def main():
    mode, ours_path, theirs_path, req_path = sys.argv[1:5]
    ours, theirs, reqs = (json.load(open(p)) for p in (ours_path, theirs_path, req_path))
    for name, x in (('ours', ours), ('@polkadot/api', theirs)):
        if isinstance(x, dict) and 'error' in x:
            print(f'not ok: {name} failed: {x["error"]}')
            return 1
    if not (isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs) == len(reqs)):
        print(f'not ok: result counts differ ({len(ours)} vs {len(theirs)}, {len(reqs)} requests)')
        return 1
    bad = 0
    compare = compare_encode if mode == 'encode' else compare_storage
    for r, o, t in zip(reqs, ours, theirs):
        d = compare(o, t)
        if d:
            bad += 1
            print(f'  DIFF {label(r)}: {d}')
        else:
            size = len(t.get('extrinsicHex', t.get('callHex', t.get('raw') or '0x'))) // 2 - 1 if mode == 'encode' or 'raw' in t else 0
            extra = f' ({size} bytes)' if size > 0 else ''
            if 'entries' in t:
                extra = f" ({len(t['entries'])} entries)"
            print(f'  same {label(r)}{extra}')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
