// The checkpoint: a C2SP signed note, checked against the published keys
// file (`origin <origin>`, then `name+hexid+base64(0x01 ‖ Ed25519 key)` a
// line, a revoked one followed by `revoked-from <tree size>`; id =
// SHA-256(name ‖ "\n" ‖ 0x01 ‖ key)[:4]), with WebCrypto only.

const enc = new TextEncoder();

export function concat(parts) {
  let n = 0;
  parts.forEach((p) => { n += p.length; });
  const out = new Uint8Array(n);
  let at = 0;
  parts.forEach((p) => { out.set(p, at); at += p.length; });
  return out;
}
export function sha256(parts) {
  return crypto.subtle.digest('SHA-256', concat(parts)).then((b) => new Uint8Array(b));
}
export function equal(a, b) { return a.length === b.length && a.every((x, i) => x === b[i]); }
export function b64(bytes) { let s = ''; bytes.forEach((b) => { s += String.fromCharCode(b); }); return btoa(s); }
export function unb64(text) { return Uint8Array.from(atob(text), (c) => c.charCodeAt(0)); }

/** The keys file: { origin, keys: [{ text, revokedFrom }] }. */
export function parseKeys(keysText) {
  const keys = [];
  let origin = null;
  keysText.split('\n').forEach((raw) => {
    const line = raw.trim();
    if (!line || line[0] === '#') return;
    if (line.indexOf('origin ') === 0) { origin = line.slice(7); return; }
    const parts = line.split(' ');
    const revoked = parts.length === 3 && parts[1] === 'revoked-from' && /^\d+$/.test(parts[2]) ? Number(parts[2]) : null;
    if (parts.length === 1 || revoked !== null) keys.push({ text: parts[0], revokedFrom: revoked });
  });
  return { origin, keys };
}

/**
 * Checks a checkpoint note against the keys file: resolves to
 * { note, origin, size, root, signer } or rejects saying what is wrong.
 */
export async function verifyCheckpoint(note, keysText) {
  if (!note || !keysText) throw new Error('no checkpoint or keys');
  const split = note.indexOf('\n\n');
  if (split < 0) throw new Error('the checkpoint is not a signed note');
  const body = note.slice(0, split + 1), lines = body.split('\n');
  const size = Number(lines[1]), root = unb64(lines[2] || '');
  if (!/^\d+$/.test(lines[1]) || root.length !== 32) throw new Error('the checkpoint is malformed');
  const signatures = note.slice(split + 2).split('\n').filter(Boolean);
  const { origin, keys } = parseKeys(keysText);
  if (origin !== null && origin !== lines[0]) throw new Error('the checkpoint is of the log ' + lines[0] + ', not ' + origin);
  let signer = null, revokedSigner = null;
  for (const published of keys) {
    // `name+id+base64`: names hold no `+` and ids are 8 hex digits, but
    // base64 may hold `+`, so split at the first two only.
    const text = published.text, first = text.indexOf('+'), second = text.indexOf('+', first + 1);
    if (first < 1 || second !== first + 9) continue;
    const name = text.slice(0, first), id = text.slice(first + 1, second), key = unb64(text.slice(second + 1));
    if (key.length !== 33 || key[0] !== 1) continue;
    const hash = await sha256([enc.encode(name + '\n'), key]);
    if (Array.from(hash.slice(0, 4), (b) => b.toString(16).padStart(2, '0')).join('') !== id) continue;
    for (const sigLine of signatures) {
      const m = /^\u2014 (\S+) (\S+)$/.exec(sigLine);
      if (!m || m[1] !== name) continue;
      const blob = unb64(m[2]);
      if (blob.length !== 68 || !equal(blob.slice(0, 4), hash.slice(0, 4))) continue;
      const publicKey = await crypto.subtle.importKey('raw', key.slice(1), { name: 'Ed25519' }, false, ['verify']);
      if (!await crypto.subtle.verify({ name: 'Ed25519' }, publicKey, blob.slice(4), enc.encode(body))) continue;
      // A key revoked at or before this tree's size vouches for nothing:
      // whoever holds it signs forks.
      if (published.revokedFrom !== null && published.revokedFrom <= size) revokedSigner = name + ' (revoked from tree size ' + published.revokedFrom + ')';
      else signer = name;
    }
  }
  if (!signer && revokedSigner) throw new Error('the checkpoint is signed by a revoked key: ' + revokedSigner);
  if (!signer) throw new Error('the checkpoint is not signed by a published key');
  return { note, origin: lines[0], size, root, signer };
}
