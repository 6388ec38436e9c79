// Proofs of the results: each result's exact entry line from the public
// log's entry bundles (C2SP tlog-tiles), its inclusion in the signed tree
// (RFC 6962 / 9162 paths rebuilt from the hash tiles), the corrections it
// depends on and its fund's entry, replayed, and compared with every field
// the page shows. WebCrypto only.
//
// `io` gives the files: `log(path, kind)` a whole file of the log (text or
// bytes, null if none), `range(path, from, to)` a byte range of one
// ({ bytes, whole, size }), `hasWhole(path)` whether a whole file is in
// hand, `manifest()` the index's manifest.

import { b64, equal, sha256, unb64, verifyCheckpoint } from './note.js';

const enc = new TextEncoder();

export function createProver(io) {
  const log = io.log;
  function node(left, right) { return sha256([Uint8Array.of(1), left, right]); }
  function tilePath(index, width) {
    var groups = [String(index % 1000).padStart(3, '0')];
    for (var rest = Math.floor(index / 1000); rest > 0; rest = Math.floor(rest / 1000)) groups.unshift('x' + String(rest % 1000).padStart(3, '0'));
    return groups.join('/') + (width < 256 ? '.p/' + width : '');
  }
  // The hashes of tile (level, tileIndex) in a tree of `size`.
  function tile(level, tileIndex, size) {
    var width = Math.min(256, Math.floor(size / Math.pow(256, level)) - tileIndex * 256);
    return log('tile/' + level + '/' + tilePath(tileIndex, width)).then(function (bytes) {
      if (!bytes || bytes.length !== width * 32) throw new Error('tile ' + level + '/' + tileIndex + ' is missing or has the wrong size');
      return bytes;
    });
  }
  // The hash of the complete subtree of height `height` at position `j`:
  // 2^(height mod 8) hashes of tile level floor(height / 8), hashed up.
  function completeHash(height, j, size) {
    var level = Math.floor(height / 8), count = Math.pow(2, height - 8 * level), first = j * count;
    var tileIndex = Math.floor(first / 256), offset = first - tileIndex * 256;
    return tile(level, tileIndex, size).then(function (bytes) {
      var hashes = [];
      for (var i = 0; i < count; i++) hashes.push(bytes.subarray((offset + i) * 32, (offset + i + 1) * 32));
      function up(row) {
        if (row.length === 1) return Promise.resolve(row[0]);
        var next = [];
        for (var i = 0; i < row.length; i += 2) next.push(node(row[i], row[i + 1]));
        return Promise.all(next).then(up);
      }
      return up(hashes);
    });
  }
  function below(n) { var k = 1; while (k * 2 < n) k *= 2; return k; } // largest power of 2 < n
  function isPower(n) { return n > 0 && below(n + 1) === n; }
  // MTH(D[a:b]) from the tiles.
  function rangeHash(a, b, size) {
    var n = b - a;
    if (isPower(n) && a % n === 0) return completeHash(Math.round(Math.log2(n)), a / n, size);
    var k = below(n);
    return Promise.all([rangeHash(a, a + k, size), rangeHash(a + k, b, size)]).then(function (h) { return node(h[0], h[1]); });
  }
  // RFC 6962 PATH(m, D[a:b]).
  function inclusionPath(m, a, b, size) {
    if (b - a === 1) return Promise.resolve([]);
    var k = below(b - a);
    var inLeft = m < a + k;
    return Promise.all([
      inLeft ? inclusionPath(m, a, a + k, size) : inclusionPath(m, a + k, b, size),
      inLeft ? rangeHash(a + k, b, size) : rangeHash(a, a + k, size),
    ]).then(function (r) { return r[0].concat([r[1]]); });
  }
  // RFC 9162 2.1.3.2: the root an inclusion path leads to, or null.
  async function rootFromInclusion(index, size, leaf, path) {
    var fn = index, sn = size - 1, r = leaf;
    for (var p of path) {
      if (sn === 0) return null;
      if (fn % 2 === 1 || fn === sn) {
        r = await node(p, r);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await node(r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 ? r : null;
  }
  // RFC 6962 SUBPROOF(m, D[a:b], start).
  function consistencyPath(m, a, b, start, size) {
    var n = b - a;
    if (m === n) return start ? Promise.resolve([]) : rangeHash(a, b, size).then(function (h) { return [h]; });
    var k = below(n);
    var left = m <= k;
    return Promise.all([
      left ? consistencyPath(m, a, a + k, start, size) : consistencyPath(m - k, a + k, b, false, size),
      left ? rangeHash(a + k, b, size) : rangeHash(a, a + k, size),
    ]).then(function (r) { return r[0].concat([r[1]]); });
  }
  // RFC 9162 2.1.4.2.
  async function consistent(first, second, firstRoot, secondRoot, path) {
    if (first === second) return equal(firstRoot, secondRoot);
    if (isPower(first)) path = [firstRoot].concat(path);
    var fn = first - 1, sn = second - 1;
    while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    var fr = path[0], sr = path[0];
    for (var c of path.slice(1)) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = await node(c, fr); sr = await node(c, sr);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        sr = await node(sr, c);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(fr, firstRoot) && equal(sr, secondRoot);
  }

  // The checkpoint: a C2SP signed note, checked against the published keys
  // The checkpoint, fetched and checked once per page.
  var checkpointPromise = null;
  function checkpoint() {
    if (checkpointPromise) return checkpointPromise;
    checkpointPromise = Promise.all([log('checkpoint', 'text'), log('keys', 'text')])
      .then(function (r) { return verifyCheckpoint(r[0], r[1]); });
    var mine = checkpointPromise;
    mine.catch(function () { if (checkpointPromise === mine) checkpointPromise = null; }); // try again next time
    return checkpointPromise;
  }
  // Whether the checkpoint extends a stored one ({ size, root }), by a
  // consistency proof from the tiles.
  async function extendsStored(stored, cp) {
    if (stored.size > cp.size) return false;
    if (stored.size === 0) return true;
    var oldRoot = unb64(stored.root);
    return consistencyPath(stored.size, 0, cp.size, true, cp.size)
      .then(function (path) { return consistent(stored.size, cp.size, oldRoot, cp.root, path); })
      .catch(function () { return false; });
  }

  function bundleLine(bytes, position) {
    var at = 0;
    for (var i = 0; at + 2 <= bytes.length; i++) {
      var length = (bytes[at] << 8) | bytes[at + 1];
      if (i === position) return bytes.subarray(at + 2, at + 2 + length);
      at += 2 + length;
    }
    throw new Error('the entry bundle is short');
  }
  // An entry line without its whole bundle. A bundle holds 256 lines of
  // some 250 bytes, and a proof needs one: once a bundle has been seen whole
  // (the first proof's), the others ask for a window of theirs (an HTTP
  // range) where the mean line length puts the line, then, if it is not
  // there, a window placed by the mean of that very bundle (its size comes
  // with the first answer), then the whole bundle. The line is found by its
  // start, `{"seq":N,` after its 2-byte length (JSON escapes every quote
  // inside a value, so nothing else in a bundle looks like that), and the
  // Merkle proof checks its exact bytes: a wrong window can only cost a
  // fetch, never a wrong verdict. A host that ignores ranges answers with
  // the whole bundle, which is used as such, and is asked for whole
  // bundles from then on.
  var meanLine = 0; // bytes per line, length included, in a bundle seen whole
  var rangesWork = true;
  var probe = null; // the first range request: until it answers, others wait
  // (on a host that ignores ranges, two windows of one bundle would each
  // bring the whole bundle)
  var SLACK = 2048; // bytes either side of where a line should start
  function findLine(bytes, seq) {
    var start = enc.encode('{"seq":' + seq + ',');
    search: for (var at = 2; at + start.length <= bytes.length; at++) {
      for (var j = 0; j < start.length; j++) if (bytes[at + j] !== start[j]) continue search;
      var length = (bytes[at - 2] << 8) | bytes[at - 1];
      if (at + length <= bytes.length && bytes[at + length - 1] === 0x7d) return bytes.subarray(at, at + length);
      return null;
    }
    return null;
  }
  // Bytes from..to of a file of the log: { bytes, whole: whether the host
  // sent the whole file instead, size: the file's size if it said }.
  function logRange(path, from, to) {
    return io.range(path, from, to).then(function (part) {
      if (part.whole) rangesWork = false;
      return part;
    });
  }
  // `lineGuess`: bytes per line to assume before any bundle was seen whole
  // (0: fetch the whole bundle then).
  async function entryLine(seq, path, width, lineGuess) {
    var position = seq % 256;
    if (probe) await probe.catch(function () { /* the whole bundle will say */ });
    var mean = meanLine || lineGuess;
    if (mean && rangesWork && !io.hasWhole(path)) {
      var guess = position * mean, size = 0;
      for (var attempt = 0; attempt < 2; attempt++) {
        var from = Math.max(0, Math.floor(guess) - SLACK * (attempt + 1));
        var asked = logRange(path, from, Math.ceil(guess + mean) + SLACK * (attempt + 1));
        if (!probe) probe = asked;
        var part = await asked.catch(function () { return null; }); // the whole bundle will say what is wrong
        if (!part) break;
        var line = part.whole ? bundleLine(part.bytes, position) : findLine(part.bytes, seq);
        if (line) return line;
        if (part.whole || !part.size || size) break;
        size = part.size;
        guess = position * size / width;
      }
    }
    var bundle = await log(path);
    if (!bundle) throw new Error('the entry bundle is missing');
    meanLine = bundle.length / width;
    return bundleLine(bundle, position);
  }
  // Entry `seq`'s exact line from its entry bundle, proven in the signed
  // tree: { line, entry, path }.
  async function provenEntry(seq, cp, lineGuess) {
    if (seq >= cp.size) throw new Error('entry ' + seq + ' is not in the checkpoint');
    var bundleIndex = Math.floor(seq / 256);
    var width = Math.min(256, cp.size - bundleIndex * 256);
    // The entry line and the hash tiles of the path, fetched together.
    var fetched = await Promise.all([
      entryLine(seq, 'tile/entries/' + tilePath(bundleIndex, width), width, lineGuess),
      inclusionPath(seq, 0, cp.size, cp.size),
    ]);
    var line = fetched[0], path = fetched[1];
    var leaf = await sha256([Uint8Array.of(0), line]);
    var root = await rootFromInclusion(seq, cp.size, leaf, path);
    if (!root || !equal(root, cp.root)) throw new Error('entry ' + seq + ' is not in the signed tree');
    var entry = JSON.parse(new TextDecoder().decode(line));
    if (entry.seq !== seq) throw new Error('the line of entry ' + seq + ' says it is ' + entry.seq);
    return { line: line, entry: entry, path: path };
  }
  // Fund and correction entries are few and early in the log: their lines
  // are fetched as ranges at once, assuming this many bytes a line.
  var LINE_GUESS = 400;
  // The current form of entry `seq`: its proven line with the corrections
  // `corrections` (their numbers, from the index) proven and replayed in
  // order, as the ledger does: an `amend` sets fields (null removes one), a
  // correction without one voids the entry.
  async function current(seq, corrections, cp, lineGuess) {
    var proven = await Promise.all([provenEntry(seq, cp, lineGuess)].concat(corrections.map(function (c) {
      return provenEntry(c, cp, LINE_GUESS);
    })));
    var body = Object.assign({}, proven[0].entry), voided = false, amended = false, previous = seq;
    proven.slice(1).forEach(function (p) {
      var c = p.entry;
      if (c.kind !== 'correction' || c.target !== seq || c.seq <= previous || voided) throw new Error('entry ' + c.seq + ' is not a correction of entry ' + seq);
      previous = c.seq;
      if (!c.amend) { voided = true; return; }
      amended = true;
      Object.keys(c.amend).forEach(function (field) {
        if (c.amend[field] === null) delete body[field]; else body[field] = c.amend[field];
      });
    });
    return { body: body, voided: voided, amended: amended, line: proven[0].line, path: proven[0].path };
  }
  // A fund's current name, proven once per fund and checkpoint.
  var fundNames = new Map();
  function fundName(position, cp) {
    var fund = io.manifest().funds[position], key = cp.size + ':' + position;
    if (!fund) return Promise.reject(new Error('the index names no fund ' + position));
    if (!fundNames.has(key)) {
      var named = current(fund[2], fund[3], cp, LINE_GUESS).then(function (c) {
        // (A voided fund keeps its name: its voided donations still show it.)
        if (c.body.kind !== 'fund' || c.body.id !== fund[0]) throw new Error('entry ' + fund[2] + ' is not the fund ' + fund[0]);
        return c.body.name;
      });
      named.catch(function () { if (fundNames.get(key) === named) fundNames.delete(key); }); // asked again next time
      fundNames.set(key, named);
    }
    return fundNames.get(key);
  }
  // A text as the index holds it (`plain` in lookup.rs): without bidi
  // controls, a tab or line break as a space.
  // A text as the index holds it (`plain` in lookup.rs): without bidi
  // controls, a tab or line break as a space.
  function plain(text) {
    return String(text === undefined || text === null ? '' : text).replace(/[\u202a-\u202e\u2066-\u2069]/g, '').replace(/[\t\n\r]/g, ' ');
  }
  // Proves one result: its exact entry line from the entry bundle, its
  // inclusion in the signed tree, the corrections it depends on and its
  // fund's entry, and that the page shows what they say: every field shown
  // (donor, amount, date, booking time, account, reference, description,
  // note, fund, voided or amended).
  async function prove(record) {
    var cp = await checkpoint();
    var proven = await Promise.all([current(record.seq, record.corrections, cp, 0), fundName(record.fundIndex, cp)]);
    var donation = proven[0], body = donation.body;
    if (body.kind !== 'donation') throw new Error('entry ' + record.seq + ' is not a donation');
    var differ = [];
    if (plain(body.donor) !== record.donor) differ.push('donor');
    if (body.amount !== record.amount) differ.push('amount');
    if (body.date !== record.date) differ.push('date');
    if (plain(body.booking_time) !== record.time) differ.push('time');
    if (plain(body.account) !== record.account) differ.push('account');
    if (plain(body.ref) !== record.ref) differ.push('ref');
    if (plain(body.description) !== record.description) differ.push('description');
    if (plain(body.note) !== record.note) differ.push('note');
    if (body.fund !== record.fund[0] || proven[1] !== record.fund[1]) differ.push('fund');
    if (donation.voided !== record.voided) differ.push('voided');
    if (donation.amended !== record.amended) differ.push('amended');
    if (differ.length) throw new Error('the index differs from the proven entry (' + differ.join(', ') + ')');
    var receipt = 'c2sp.org/tlog-proof@v1\nextra ' + b64(donation.line) + '\nindex ' + record.seq + '\n' +
      donation.path.map(function (h) { return b64(h) + '\n'; }).join('') + '\n' + cp.note;
    return receipt;
  }
  return {
    checkpoint: checkpoint,
    extendsStored: extendsStored,
    prove: prove,
    // A new query may have aborted a fund's proof under way.
    forgetFunds: function () { fundNames.clear(); },
  };
}
