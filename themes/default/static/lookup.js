// minhbach lookup: searches the static index under tra-cuu/chi-muc/ and
// proves each result against the signed public log under ledger/ (C2SP
// tlog-tiles), with WebCrypto only. No dependencies, no external requests.
// The index format is described in src/site/lookup.rs.
(function () {
  'use strict';
  var form = document.getElementById('lookup');
  if (!form || !window.fetch) return;
  var D = form.dataset;
  var input = form.elements.q;
  var statusLine = document.getElementById('lookup-status');
  var list = document.getElementById('results');
  var warning = document.getElementById('checkpoint-warning');
  var WANT = 20; // results per query
  var BUDGET = 150 * 1024; // index bytes per query, records included
  var RECORD_RESERVE = 60 * 1024; // kept for the records of the results
  var enc = new TextEncoder();

  function t(key, values) {
    var text = D['t' + key.charAt(0).toUpperCase() + key.slice(1)] || key;
    for (var name in values || {}) text = text.split('{' + name + '}').join(values[name]);
    return text;
  }

  // ---- fetching, with a byte count per query -------------------------
  var spent = 0;
  var cache = new Map();
  function get(url, kind) {
    if (!cache.has(url)) {
      cache.set(url, fetch(url).then(function (response) {
        if (response.status === 404) return null;
        if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
        return response.arrayBuffer().then(function (buffer) {
          spent += buffer.byteLength;
          return new Uint8Array(buffer);
        });
      }));
    }
    return cache.get(url).then(function (bytes) {
      if (bytes === null || kind !== 'text') return bytes;
      return new TextDecoder().decode(bytes);
    });
  }
  var index = function (path, kind) { return get(D.index + path, kind); };

  // ---- text ------------------------------------------------------------
  // The same folding as the site's `vn::fold`: marks removed, lower case, đ → d.
  function fold(text) {
    return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()
      .replace(/\p{M}/gu, '').replace(/đ/g, 'd');
  }
  function escapeWord(word) {
    var out = '';
    for (var c of word) out += /[a-z0-9]/.test(c) ? c : '_' + c.codePointAt(0).toString(16) + '_';
    return out;
  }
  function firstChars(word, n) { return Array.from(word).slice(0, n).join(''); }
  function groupDigits(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '.'); }
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  function showDate(iso) {
    var p = iso.split('-');
    if (D.lang === 'en') return Number(p[2]) + ' ' + MONTHS[Number(p[1]) - 1] + ' ' + p[0];
    return p[2] + '/' + p[1] + '/' + p[0];
  }

  // ---- the query -------------------------------------------------------
  var DATE = '(\\d{1,2}/\\d{1,2}/\\d{4}|\\d{4}-\\d{1,2}-\\d{1,2})';
  function parseDate(text) {
    var m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
    var y, mo, d;
    if (m) { d = +m[1]; mo = +m[2]; y = +m[3]; } else {
      m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text);
      if (!m) return null;
      y = +m[1]; mo = +m[2]; d = +m[3];
    }
    var date = new Date(Date.UTC(y, mo - 1, d));
    if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
    return date;
  }
  var UNITS = { k: 1e3, ng: 1e3, nghin: 1e3, ngan: 1e3, tr: 1e6, trieu: 1e6, m: 1e6, ty: 1e9, ti: 1e9 };
  function parseAmount(token) {
    if (/^\d{1,3}([.,]\d{3})+$/.test(token)) return Number(token.replace(/[.,]/g, ''));
    if (/^\d{1,3}(\.\d{3})+,00$/.test(token)) return Number(token.slice(0, -3).replace(/\./g, ''));
    var m = /^(\d+)(?:[.,](\d+))?(k|ng|nghin|ngan|tr|trieu|m|ty|ti)$/.exec(token);
    if (!m) return null;
    var unit = UNITS[m[3]];
    var value = Number(m[1]) * unit;
    if (m[2]) value += Math.round(Number(m[2]) * unit / Math.pow(10, m[2].length));
    return value;
  }
  function parseQuery(text) {
    var q = { words: [], amount: null, from: null, to: null, ref: null, digits: null };
    var s = fold(text.trim()).replace(/(\d)\s+(k|nghin|ngan|tr|trieu|ty)\b/g, '$1$2');
    var range = new RegExp(DATE + '\\s*(?:\\.\\.|–|—|-|den|to)\\s*' + DATE).exec(s);
    if (range) {
      var a = parseDate(range[1]), b = parseDate(range[2]);
      if (a && b) { q.from = a < b ? a : b; q.to = a < b ? b : a; s = s.replace(range[0], ' '); }
    }
    s.split(/\s+/).forEach(function (token) {
      if (!token) return;
      var date = parseDate(token);
      var amount = parseAmount(token);
      if (date) { q.from = q.to = date; } else if (amount !== null) { q.amount = amount; } else if (/^\d+$/.test(token)) { q.digits = token; } else if (/\d/.test(token) && /[a-z]/.test(token)) { q.ref = token; } else {
        token.split(/[^\p{L}\p{N}]+/u).forEach(function (word) {
          if (word && !/^\d+$/.test(word)) q.words.push(word);
        });
      }
    });
    return q;
  }

  // ---- the index -------------------------------------------------------
  var manifestPromise = null;
  function manifest() {
    if (!manifestPromise) {
      manifestPromise = index('manifest.json', 'text').then(function (text) { M = JSON.parse(text); return M; });
    }
    return manifestPromise;
  }
  // A dictionary shard: term key → term. A term's postings are known chunk
  // by chunk (`loaded`: chunk number → sorted indices), or all at once when
  // they are inline.
  var M = null; // the manifest
  function deltas(text) {
    var previous = 0;
    return text.split(',').map(function (d) { previous += parseInt(d, 36); return previous; });
  }
  function dictionary(shard) {
    return index('d/' + shard, 'text').then(function (text) {
      var terms = new Map();
      (text || '').split('\n').forEach(function (line) {
        if (!line) return;
        var f = line.split('\t');
        var count = +f[1];
        var term = {
          key: f[0], count: count, newest: +f[2], loaded: new Map(),
          chunks: f[3] ? 0 : Math.ceil(count / M.chunk), starts: f[4] ? deltas(f[4]) : [0],
        };
        if (f[3]) term.loaded.set(0, deltas(f[3]));
        terms.set(f[0], term);
      });
      return terms;
    });
  }
  function ymd(date) { return date.toISOString().slice(0, 10).replace(/-/g, ''); }
  // The terms of one criterion (a word, an amount, a date range): their
  // postings are united; criteria are intersected.
  function wordTerms(word) {
    var key = 'n' + escapeWord(word);
    var exact = Array.from(word).length < 2;
    return dictionary('n' + escapeWord(firstChars(word, 2))).then(function (terms) {
      return Array.from(terms.values()).filter(function (term) {
        return exact ? term.key === key : term.key.startsWith(key);
      });
    });
  }
  function amountTerms(amount) {
    var digits = String(amount);
    return dictionary('a' + digits.length + '-' + digits.slice(0, 2)).then(function (terms) {
      var term = terms.get('a' + digits);
      return term ? [term] : [];
    });
  }
  function dateTerms(from, to) {
    var days = [];
    for (var d = new Date(to); d >= from && days.length < 400; d.setUTCDate(d.getUTCDate() - 1)) days.push(ymd(d));
    var months = Array.from(new Set(days.map(function (day) { return day.slice(0, 6); })));
    return Promise.all(months.map(function (m) { return dictionary('d' + m); })).then(function (shards) {
      var out = [];
      days.forEach(function (day) {
        shards.forEach(function (terms) { if (terms.has('d' + day)) out.push(terms.get('d' + day)); });
      });
      return out;
    });
  }
  function readVarint(bytes, at) {
    var value = 0, scale = 1, byte;
    do { byte = bytes[at.i++]; value += (byte & 0x7f) * scale; scale *= 128; } while (byte & 0x80);
    return value;
  }
  function decodeChunk(bytes) {
    var at = { i: 1 };
    var first = readVarint(bytes, at), out = [first];
    if (bytes[0] === 0) {
      while (at.i < bytes.length) out.push(out[out.length - 1] + readVarint(bytes, at));
      return out;
    }
    out = [];
    for (var i = at.i; i < bytes.length; i++) {
      for (var bit = 0; bit < 8; bit++) if (bytes[i] & (1 << bit)) out.push(first + (i - at.i) * 8 + bit);
    }
    return out;
  }
  // The chunk that would hold donation x (-1: before the term's first).
  function chunkOf(term, x) {
    var lo = 0, hi = term.starts.length - 1;
    if (x < term.starts[0]) return -1;
    while (lo < hi) {
      var mid = Math.ceil((lo + hi) / 2);
      if (term.starts[mid] <= x) lo = mid; else hi = mid - 1;
    }
    return lo;
  }
  function load(term, k) {
    return index('p/' + term.key + '/' + k).then(function (bytes) {
      if (!bytes) throw new Error('missing postings ' + term.key + '/' + k);
      term.loaded.set(k, decodeChunk(bytes));
    });
  }
  // Whether a term holds x: true, false, or undefined until its chunk is loaded.
  function has(term, x) {
    if (x > term.newest) return false;
    var k = term.chunks ? chunkOf(term, x) : 0;
    if (k < 0) return false;
    var postings = term.loaded.get(k);
    if (!postings) return undefined;
    if (!postings.set) postings.set = new Set(postings);
    return postings.set.has(x);
  }
  // The lowest donation a term can hold (0 when its dictionary line does not say).
  function lowIndex(term) {
    var inline = !term.chunks && term.loaded.get(0);
    if (inline) return inline.length ? inline[0] : 0;
    return term.starts[0] || 0;
  }
  // The postings of a union of terms within lo..hi, newest first, a loaded
  // chunk at a time: chunks above hi or below lo are never fetched.
  function stream(terms, hi, lo) {
    var first = terms.map(function (term) { return term.chunks ? chunkOf(term, hi) : -1; });
    var next = first.slice(); // next chunk to load
    var emitted = hi + 1;
    function lowest(term, i) { // everything of the term at or above this is loaded
      if (!term.chunks || next[i] < 0) return -1;
      return next[i] === first[i] ? hi + 1 : term.starts[next[i] + 1];
    }
    return async function more() {
      for (;;) {
        var bound = terms.reduce(function (b, term, i) { return Math.max(b, lowest(term, i)); }, -1);
        var fresh = new Set();
        terms.forEach(function (term) {
          term.loaded.forEach(function (postings) {
            postings.forEach(function (x) { if (x >= bound && x >= lo && x < emitted) fresh.add(x); });
          });
        });
        emitted = Math.max(bound, 0);
        if (fresh.size) return Array.from(fresh).sort(function (a, b) { return b - a; });
        if (bound < 0 || bound <= lo) return null;
        if (spent >= BUDGET - RECORD_RESERVE) return undefined;
        await Promise.all(terms.map(function (term, i) {
          if (lowest(term, i) !== bound) return null;
          var k = next[i]--;
          return term.loaded.has(k) ? null : load(term, k);
        }));
      }
    };
  }
  // Donations in every criterion (a criterion is a union of terms), newest
  // first. The criterion with the fewest postings drives; each of its
  // candidates is checked against the others, rarest first, fetching only
  // the chunks that would hold it.
  async function intersect(criteria) {
    criteria = criteria.map(function (terms) {
      return { terms: terms, count: terms.reduce(function (n, term) { return n + term.count; }, 0) };
    }).sort(function (a, b) { return a.count - b.count; });
    // A donation in every criterion lies in the range all of them allow: a
    // day, for one, is a short run of the log (donations are in date order),
    // so a name and a day never walk the name's postings outside that day.
    var hi = Math.min.apply(null, criteria.map(function (c) {
      return Math.max.apply(null, c.terms.map(function (term) { return term.newest; }));
    }));
    var lo = Math.max.apply(null, criteria.map(function (c) {
      return Math.min.apply(null, c.terms.map(lowIndex));
    }));
    if (!(hi >= lo)) return { indices: [], complete: true };
    var more = stream(criteria[0].terms, hi, lo), checks = criteria.slice(1), found = [], queue = [];
    while (found.length < WANT) {
      if (!queue.length) {
        var batch = await more();
        if (batch === null) return { indices: found, complete: true };
        if (batch === undefined) return { indices: found, complete: false };
        queue = batch;
      }
      var candidates = queue.splice(0, 64);
      for (var check of checks) {
        var needed = new Map();
        candidates.forEach(function (x) {
          if (check.terms.some(function (term) { return has(term, x) === true; })) return;
          check.terms.forEach(function (term) {
            if (has(term, x) === undefined) needed.set(term.key + '/' + chunkOf(term, x), [term, chunkOf(term, x)]);
          });
        });
        if (needed.size) {
          if (spent >= BUDGET - RECORD_RESERVE) return { indices: found, complete: false };
          await Promise.all(Array.from(needed.values()).map(function (n) { return load(n[0], n[1]); }));
        }
        candidates = candidates.filter(function (x) {
          return check.terms.some(function (term) { return has(term, x); });
        });
      }
      found = found.concat(candidates);
    }
    return { indices: found, complete: false };
  }
  function fnv1a(text) {
    var hash = 0x811c9dc5;
    enc.encode(text).forEach(function (byte) { hash = Math.imul(hash ^ byte, 0x01000193) >>> 0; });
    return hash;
  }
  function refLookup(ref, m) {
    var folded = fold(ref).replace(/\s+/g, '');
    var shard = m.ref_bits === 0 ? 0 : fnv1a(folded) >>> (32 - m.ref_bits);
    return index('f/' + shard, 'text').then(function (text) {
      var found = [];
      (text || '').split('\n').forEach(function (line) {
        var f = line.split('\t');
        if (f[0] === folded) found.push(+f[1]);
      });
      return found.sort(function (a, b) { return b - a; });
    });
  }
  function records(indices, m) {
    var shards = Array.from(new Set(indices.map(function (i) { return Math.floor(i / m.records); })));
    return Promise.all(shards.map(function (k) { return index('r/' + k, 'text'); })).then(function (texts) {
      var byShard = new Map();
      shards.forEach(function (k, n) { byShard.set(k, (texts[n] || '').split('\n')); });
      return indices.map(function (i) {
        var f = byShard.get(Math.floor(i / m.records))[i % m.records].split('\t');
        return {
          index: i, seq: +f[0], donor: f[1], amount: +f[2], date: f[3], fund: m.funds[+f[4]] || ['', ''],
          ref: f[5], voided: f[6].indexOf('v') >= 0, amended: f[6].indexOf('a') >= 0,
        };
      });
    });
  }
  // The final word on a match is the record itself (and it filters hash
  // collisions of references).
  function matches(record, q) {
    var words = fold(record.donor).split(/[^\p{L}\p{N}]+/u);
    return q.words.every(function (w) {
      return words.some(function (word) { return word.startsWith(w); });
    }) && (q.amount === null || record.amount === q.amount) &&
      (q.from === null || (record.date >= q.from.toISOString().slice(0, 10) && record.date <= q.to.toISOString().slice(0, 10)));
  }
  function exactness(record, q) {
    var words = fold(record.donor).split(/[^\p{L}\p{N}]+/u);
    return q.words.filter(function (w) { return words.indexOf(w) >= 0; }).length;
  }

  function search(q, m) {
    var refText = q.ref || q.digits;
    var byRef = refText ? refLookup(refText, m) : Promise.resolve([]);
    return byRef.then(function (found) {
      if (found.length || q.ref) return { indices: found, complete: true };
      if (q.digits !== null) q.amount = Number(q.digits);
      var others = [];
      if (q.amount !== null) others.push(amountTerms(q.amount));
      if (q.from) others.push(dateTerms(q.from, q.to));
      if (!q.words.length && !others.length) return null;
      return Promise.all([Promise.all(q.words.map(wordTerms)), Promise.all(others)]).then(function (r) {
        // A one-letter word that is not a word of its own ("tran v") is
        // left to the record filter, as a prefix.
        var words = q.words.filter(function (w, i) { return r[0][i].length || Array.from(w).length > 1; });
        var prefixed = r[0].filter(function (terms, i) { return terms.length || Array.from(q.words[i]).length > 1; });
        var rest = r[1];
        if (!prefixed.length && !rest.length) return null;
        if (prefixed.concat(rest).some(function (terms) { return !terms.length; })) return { indices: [], complete: true };
        // Whole words first ("an" is not "anh"); prefixes only if that is
        // short of a page.
        var exact = prefixed.map(function (terms, i) {
          return terms.filter(function (term) { return term.key === 'n' + escapeWord(words[i]); });
        });
        var widen = function (first) {
          return intersect(prefixed.concat(rest)).then(function (second) {
            var seen = new Set(first.indices);
            return {
              indices: first.indices.concat(second.indices.filter(function (i) { return !seen.has(i); })),
              complete: second.complete,
            };
          });
        };
        if (exact.some(function (terms) { return !terms.length; })) return widen({ indices: [] });
        return intersect(exact.concat(rest)).then(function (first) {
          var same = prefixed.every(function (terms, i) { return terms.length === exact[i].length; });
          if (same || first.indices.length >= WANT || !first.complete) return first;
          return widen(first);
        });
      });
    });
  }

  // ---- results ---------------------------------------------------------
  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    for (var name in attributes || {}) node.setAttribute(name, attributes[name]);
    (children || []).forEach(function (child) {
      node.append(child);
    });
    return node;
  }
  function show(record, m) {
    var page = Math.floor(record.index / m.page_size) + 1;
    var donor = record.donor ? el('strong', {}, [record.donor]) : el('em', {}, [t('anonymous')]);
    var amount = groupDigits(record.amount) + ' ₫';
    var facts = el('p', {}, [donor, ' · ', record.voided ? el('s', {}, [amount]) : amount, ' · ', showDate(record.date), ' · ',
      el('a', { href: D.funds + record.fund[0] + '/' }, [record.fund[1]])]);
    if (record.ref) facts.append(' · ', el('code', {}, [record.ref]));
    if (record.voided) facts.append(' · ', el('strong', { class: 'voided-note' }, [t('voided')]));
    else if (record.amended) facts.append(' · ', el('span', { class: 'amended-note' }, [t('amended')]));
    var proof = el('span', { class: 'proof' }, [t('verifying')]);
    var links = el('p', {}, [el('a', { href: D.pages + page + '/#e' + record.seq }, [t('view') + ' (#' + record.seq + ')']), ' · ', proof]);
    var item = el('li', { class: 'donation', 'data-seq': String(record.seq) }, [facts, links]);
    list.append(item);
    return { item: item, proof: proof, links: links, record: record };
  }

  var generation = 0;
  function run(text) {
    var mine = ++generation;
    list.textContent = '';
    spent = 0;
    var q = parseQuery(text);
    statusLine.textContent = t('searching');
    return manifest().then(function (m) {
      return search(q, m).then(function (result) {
        if (mine !== generation) return;
        if (!result) { statusLine.textContent = t('empty'); return; }
        var top = result.indices.slice(0, WANT);
        return records(top, m).then(function (found) {
          if (mine !== generation) return;
          found = found.filter(function (r) { return matches(r, q); });
          found.sort(function (a, b) { return exactness(b, q) - exactness(a, q) || b.seq - a.seq; });
          var shown = found.slice(0, WANT);
          var message = shown.length ? t('found', { n: shown.length }) : t('none');
          if (shown.length >= WANT) message += ' ' + t('more', { n: WANT });
          if (!result.complete && shown.length < WANT) message += ' ' + t('partial');
          statusLine.textContent = message;
          list.dataset.bytes = String(spent);
          var rows = shown.map(function (r) { return show(r, m); });
          var searchBytes = spent;
          return verifyAll(rows, mine).then(function () {
            if (mine === generation) list.dataset.proofBytes = String(spent - searchBytes);
          });
        });
      });
    }).catch(function (error) {
      statusLine.textContent = t('error') + ' (' + error.message + ')';
    });
  }

  // ---- proofs (RFC 6962 / 9162 Merkle trees, C2SP tlog-tiles) -----------
  var log = function (path, kind) { return get(D.log + path, kind); };
  function concat(parts) {
    var n = 0; parts.forEach(function (p) { n += p.length; });
    var out = new Uint8Array(n), at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function sha256(parts) {
    return crypto.subtle.digest('SHA-256', concat(parts)).then(function (b) { return new Uint8Array(b); });
  }
  function node(left, right) { return sha256([Uint8Array.of(1), left, right]); }
  function equal(a, b) { return a.length === b.length && a.every(function (x, i) { return x === b[i]; }); }
  function b64(bytes) { var s = ''; bytes.forEach(function (b) { s += String.fromCharCode(b); }); return btoa(s); }
  function unb64(text) { return Uint8Array.from(atob(text), function (c) { return c.charCodeAt(0); }); }
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
  // (`name+hexid+base64(0x01 ‖ Ed25519 key)`, id = SHA-256(name ‖ "\n" ‖ 0x01 ‖ key)[:4]).
  var checkpointPromise = null;
  function checkpoint() {
    if (checkpointPromise) return checkpointPromise;
    checkpointPromise = Promise.all([log('checkpoint', 'text'), log('keys', 'text')]).then(async function (r) {
      var note = r[0], keysText = r[1];
      if (!note || !keysText) throw new Error('no checkpoint or keys');
      var split = note.indexOf('\n\n');
      if (split < 0) throw new Error('the checkpoint is not a signed note');
      var body = note.slice(0, split + 1), lines = body.split('\n');
      var size = Number(lines[1]), root = unb64(lines[2]);
      if (!/^\d+$/.test(lines[1]) || root.length !== 32) throw new Error('the checkpoint is malformed');
      var signatures = note.slice(split + 2).split('\n').filter(Boolean);
      var keys = keysText.split('\n').filter(function (line) { return line && line[0] !== '#'; });
      var signer = null;
      for (var line of keys) {
        // `name+id+base64`: names hold no `+` and ids are 8 hex digits, but
        // base64 may hold `+`, so split at the first two only.
        var text = line.trim(), first = text.indexOf('+'), second = text.indexOf('+', first + 1);
        if (first < 1 || second !== first + 9) continue;
        var name = text.slice(0, first), id = text.slice(first + 1, second), key = unb64(text.slice(second + 1));
        if (key.length !== 33 || key[0] !== 1) continue;
        var hash = await sha256([enc.encode(name + '\n'), key]);
        if (Array.from(hash.slice(0, 4), function (b) { return b.toString(16).padStart(2, '0'); }).join('') !== id) continue;
        for (var sigLine of signatures) {
          var m = /^\u2014 (\S+) (\S+)$/.exec(sigLine);
          if (!m || m[1] !== name) continue;
          var blob = unb64(m[2]);
          if (blob.length !== 68 || !equal(blob.slice(0, 4), hash.slice(0, 4))) continue;
          var publicKey = await crypto.subtle.importKey('raw', key.slice(1), { name: 'Ed25519' }, false, ['verify']);
          if (await crypto.subtle.verify({ name: 'Ed25519' }, publicKey, blob.slice(4), enc.encode(body))) signer = name;
        }
      }
      if (!signer) throw new Error('the checkpoint is not signed by a published key');
      var result = { note: note, origin: lines[0], size: size, root: root, signer: signer };
      await remember(result);
      return result;
    });
    return checkpointPromise;
  }
  // Keeps the newest verified checkpoint and warns when the site shows one
  // that does not extend it (checked with a consistency proof from the tiles).
  async function remember(cp) {
    var key = 'minhbach.checkpoint.' + cp.origin, stored = null;
    try { stored = JSON.parse(localStorage.getItem(key) || 'null'); } catch (e) { stored = null; }
    var ok = true;
    if (stored && typeof stored.size === 'number') {
      if (stored.size > cp.size) ok = false;
      else if (stored.size > 0) {
        var oldRoot = unb64(stored.root);
        ok = await consistencyPath(stored.size, 0, cp.size, true, cp.size)
          .then(function (path) { return consistent(stored.size, cp.size, oldRoot, cp.root, path); })
          .catch(function () { return false; });
      }
    }
    if (!ok) {
      warning.textContent = t('warning', { old: stored.size, new: cp.size });
      warning.hidden = false;
      return;
    }
    try { localStorage.setItem(key, JSON.stringify({ size: cp.size, root: b64(cp.root) })); } catch (e) { /* private mode */ }
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
  // Proves one result: its exact entry line from the entry bundle, its
  // inclusion in the signed tree, and that the line says what the page shows.
  async function prove(record) {
    var cp = await checkpoint();
    var seq = record.seq;
    if (seq >= cp.size) throw new Error('entry ' + seq + ' is not in the checkpoint');
    var bundleIndex = Math.floor(seq / 256);
    var width = Math.min(256, cp.size - bundleIndex * 256);
    var bundle = await log('tile/entries/' + tilePath(bundleIndex, width));
    if (!bundle) throw new Error('the entry bundle is missing');
    var line = bundleLine(bundle, seq % 256);
    var entry = JSON.parse(new TextDecoder().decode(line));
    if (entry.seq !== seq || entry.kind !== 'donation') throw new Error('the entry is not donation ' + seq);
    if (!record.amended && (entry.donor !== record.donor || entry.amount !== record.amount ||
        entry.date !== record.date || (entry.ref || '') !== record.ref)) throw new Error('the entry differs from the index');
    var path = await inclusionPath(seq, 0, cp.size, cp.size);
    var leaf = await sha256([Uint8Array.of(0), line]);
    var root = await rootFromInclusion(seq, cp.size, leaf, path);
    if (!root || !equal(root, cp.root)) throw new Error('the entry is not in the signed tree');
    var receipt = 'c2sp.org/tlog-proof@v1\nextra ' + b64(line) + '\nindex ' + seq + '\n' +
      path.map(function (h) { return b64(h) + '\n'; }).join('') + '\n' + cp.note;
    return receipt;
  }
  // The first AUTO_PROOFS results are proven at once; each of the others
  // on request, since an entry bundle weighs tens of kilobytes.
  var AUTO_PROOFS = 5;
  function verifyAll(rows, mine) {
    rows.slice(AUTO_PROOFS).forEach(function (row) {
      var button = el('button', { type: 'button', class: 'prove' }, [t('prove')]);
      row.proof.textContent = '';
      row.proof.append(button);
      button.addEventListener('click', function () {
        row.proof.textContent = t('verifying');
        verifyRow(row, mine);
      });
    });
    return rows.slice(0, AUTO_PROOFS).reduce(function (done, row) {
      return done.then(function () { return verifyRow(row, mine); });
    }, Promise.resolve());
  }
  async function verifyRow(row, mine) {
    if (mine !== generation) return;
    try {
      if (!window.crypto || !crypto.subtle) throw new Error('WebCrypto is not available');
      var receipt = await prove(row.record);
      row.item.dataset.proof = 'ok';
      row.proof.textContent = '✓ ' + t('verified');
      var url = URL.createObjectURL(new Blob([receipt], { type: 'text/plain' }));
      row.links.append(' · ', el('a', { href: url, download: 'bien-nhan-' + row.record.seq + '.txt', class: 'receipt' }, [t('receipt')]));
    } catch (error) {
      row.item.dataset.proof = 'fail';
      row.proof.textContent = '✗ ' + t('failed') + ': ' + error.message;
    }
  }


  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var text = input.value;
    if (history.replaceState) history.replaceState(null, '', '?q=' + encodeURIComponent(text));
    run(text);
  });
  var initial = new URLSearchParams(location.search).get('q');
  if (initial) { input.value = initial; run(initial); }
}());
