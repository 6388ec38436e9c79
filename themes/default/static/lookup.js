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
  // Every file is fetched once per page (`cache` holds the promise, so
  // results proven at the same time share one request for the checkpoint,
  // the keys and the hash tiles near the top of the tree). Bytes are counted
  // per query, search and proofs apart (`meter`); what is fetched ahead,
  // before the first query, is counted in that query. A new query aborts
  // the fetches the previous one still has under way, so its proofs do not
  // hold the connection the new search needs.
  var meter = { search: 0, proof: 0 };
  var cache = new Map();
  var controller = null; // the running query's, or null before the first
  // The one fetch of `key` for the page: `request(signal)` makes it, `read`
  // turns the response and its bytes (counted in the query's `bucket`) into
  // the value every caller gets.
  function once(key, bucket, request, read) {
    var entry = cache.get(key);
    if (!entry) {
      var counted = meter;
      entry = { settled: false, owner: controller };
      entry.promise = request(controller ? controller.signal : undefined).then(function (response) {
        return response.arrayBuffer().then(function (buffer) {
          counted[bucket] += buffer.byteLength;
          return read(response, new Uint8Array(buffer));
        });
      });
      var settle = function () { entry.settled = true; };
      entry.promise.then(settle, function () {
        settle();
        if (cache.get(key) === entry) cache.delete(key); // a later query may try again
      });
      cache.set(key, entry);
    }
    return entry.promise;
  }
  // A whole file: its bytes, its text, or null if there is none.
  function get(url, kind, bucket) {
    return once(url, bucket, function (signal) { return fetch(url, { signal: signal }); }, function (response, bytes) {
      if (response.status === 404) return null;
      if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
      return bytes;
    }).then(function (bytes) {
      if (bytes === null || kind !== 'text') return bytes;
      return new TextDecoder().decode(bytes);
    });
  }
  // Starts counting and fetching for a new query: the first one keeps what
  // was fetched ahead for it; the others abort what the last one left.
  function newQuery() {
    if (controller) {
      controller.abort();
      fundNames.clear(); // a fund proof under way may have been aborted
      cache.forEach(function (entry, url) {
        if (!entry.settled && entry.owner === controller) cache.delete(url);
      });
      meter = { search: 0, proof: 0 };
    }
    controller = window.AbortController ? new AbortController() : { abort: function () {} };
    return meter;
  }
  var index = function (path, kind) { return get(D.index + path, kind, 'search'); };

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
      manifestPromise.catch(function () { manifestPromise = null; }); // try again next time
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
  // The postings in chunk k: M.chunk, but fewer in a term's newest.
  function chunkPostings(term, k) {
    return k === term.chunks - 1 ? term.count - k * M.chunk : M.chunk;
  }
  // The expected size of chunk k: the smaller of a bitmap of the indices it
  // spans and its varint deltas (1 byte each, 2 or 3 for gaps of 128 or
  // 16,384 and more: geometric gaps of the chunk's mean), known from the
  // dictionary line before it is fetched.
  function chunkBytes(term, k) {
    var postings = chunkPostings(term, k), start = term.starts[k];
    var end = k + 1 < term.starts.length ? term.starts[k + 1] : term.newest + 1;
    if (start === undefined || !(end > start)) return 2 * postings;
    var gap = (end - start) / postings;
    var varint = postings * (1 + Math.exp(-128 / gap) + Math.exp(-16384 / gap));
    return Math.ceil(Math.min(varint, (end - start) / 8));
  }
  var CHEAP = 4096; // bytes of postings not worth a round trip of their own
  // The postings of a union of terms within lo..hi, newest first, a few
  // chunks at a time: chunks above hi or below lo are never fetched.
  function stream(terms, hi, lo, enough, cheap) {
    var first = terms.map(function (term) { return term.chunks ? chunkOf(term, hi) : -1; });
    var next = first.slice(); // next chunk to load
    var emitted = hi + 1;
    // Everything of the term at or above this is loaded (above its newest
    // posting there is nothing to load: of a month's days, only the newest
    // is fetched until the results reach the day before).
    function lowest(term, i) {
      if (!term.chunks || next[i] < 0) return -1;
      return next[i] === first[i] ? Math.min(hi, term.newest) + 1 : term.starts[next[i] + 1];
    }
    // `width`: how many chunks of each term to fetch in one round trip.
    return async function more(width) {
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
        if (meter.search >= BUDGET - RECORD_RESERVE) return undefined;
        var loads = [];
        terms.forEach(function (term, i) {
          if (lowest(term, i) !== bound) return;
          // A lone term's newest chunk is usually short: it is topped up
          // with the ones before to `enough` postings, and up to `cheap`
          // bytes more (a day's chunks are 512-byte bitmaps).
          var taken = 0, postings = 0, bytes = 0, lone = terms.length === 1;
          while (next[i] >= 0) {
            var k = next[i];
            var take = taken < (width || 1) || (lone && (postings < enough || bytes + chunkBytes(term, k) <= cheap));
            if (!take) break;
            next[i]--;
            taken++;
            postings += chunkPostings(term, k);
            bytes += chunkBytes(term, k);
            if (!term.loaded.has(k)) loads.push(load(term, k));
            if (term.starts[k] <= lo) break;
          }
        });
        await Promise.all(loads);
      }
    };
  }
  // Whether donation x is in a criterion (a union of terms): true, false,
  // or the chunks still needed to tell ([term, chunk] pairs).
  function within(check, x) {
    var needed = [];
    for (var term of check.terms) {
      var known = has(term, x);
      if (known === true) return true;
      if (known === undefined) needed.push([term, chunkOf(term, x)]);
    }
    return needed.length ? needed : false;
  }
  // Donations in every criterion, newest first. The criterion with the
  // fewest postings drives; each of its candidates is checked against the
  // others, rarest first, fetching only the chunks that would hold it.
  //
  // Round trips, not bytes, are what a phone waits for (one costs as much
  // as 30 KB at 1.6 Mbit/s), so each round trip fetches together what the
  // newest undecided candidates need next, within limits that keep the
  // bytes close to the fewest: a chunk is fetched when it is more likely
  // than not to be needed (a common criterion's chunk waits while a rare
  // one may still rule its candidates out); the look-ahead starts at a few
  // times the results still wanted and doubles with each round trip; at
  // most WAVE bytes, never past the budget. The driving postings come in the
  // same round trip when the candidates in hand are fewer than the
  // look-ahead.
  var WAVE = 24 * 1024; // bytes per round trip: what 150 ms carries at 1.6 Mbit/s
  async function intersect(criteria) {
    criteria = criteria.map(function (terms) {
      var count = terms.reduce(function (n, term) { return n + term.count; }, 0);
      return { terms: terms, count: count, rate: Math.min(1, count / Math.max(1, M.donations)) };
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
    var checks = criteria.slice(1), found = [], queue = [];
    // Postings worth having in hand: a page of results, or a chunk's worth
    // of candidates and any cheap chunks more when other criteria will rule
    // most of them out.
    var more = stream(criteria[0].terms, hi, lo, checks.length ? M.chunk : WANT, checks.length ? CHEAP : 0);
    // true, false, or the chunks that would decide donation x, each with
    // the chance that x needs it: 1 for the rarest criterion not yet
    // decided, and for each one after, the chance that x passes those before.
    function decide(x) {
      var needed = [], likely = 1;
      for (var check of checks) {
        var known = within(check, x);
        if (known === false) return false;
        if (known === true) continue;
        known.forEach(function (n) { needed.push([n[0], n[1], likely]); });
        likely *= check.rate;
      }
      return needed.length ? needed : true;
    }
    var ended = null; // why the driving postings ended: 'all' or 'budget'
    var width = 1, lookahead = 8;
    for (;;) {
      var decided;
      while (queue.length && !Array.isArray(decided = decide(queue[0]))) {
        var x = queue.shift();
        if (decided) found.push(x);
        if (found.length >= WANT) return { indices: found, complete: false };
      }
      if (!queue.length && ended) return { indices: found, complete: ended === 'all' };
      var room = BUDGET - RECORD_RESERVE - meter.search;
      if (room <= 0) return { indices: found, complete: false };
      // The chunks the candidates in the look-ahead more likely than not
      // need, newest first, up to a round trip's worth.
      var span = Math.min(4096, (WANT - found.length) * lookahead), wanted = new Map();
      for (var i = 0; i < queue.length && i < span; i++) {
        var next = decide(queue[i]);
        if (Array.isArray(next)) next.forEach(function (n) {
          var key = n[0].key + '/' + n[1], entry = wanted.get(key);
          if (!entry) wanted.set(key, entry = { term: n[0], k: n[1], unneeded: 1 });
          entry.unneeded *= 1 - n[2];
        });
      }
      var limit = Math.min(WAVE, room), weight = 0, loads = [];
      wanted.forEach(function (entry) {
        if (entry.unneeded > 0.5 || (weight >= limit && loads.length)) return;
        weight += chunkBytes(entry.term, entry.k);
        loads.push(load(entry.term, entry.k));
      });
      if (!ended && queue.length < span) {
        loads.push(more(width).then(function (batch) {
          if (batch === null) ended = 'all';
          else if (batch === undefined) ended = 'budget';
          else queue = queue.concat(batch); // older than every candidate in hand
        }));
        width = Math.min(8, width * 2);
      }
      lookahead *= 4;
      await Promise.all(loads);
    }
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
          ref: f[5], voided: f[6].indexOf('v') >= 0, amended: f[6].indexOf('a') >= 0, fundIndex: +f[4],
          corrections: (f[7] || '').split(',').filter(Boolean).map(Number),
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
    // Bare digits are a reference or else an amount: ask for the amount
    // and the other criteria at once, not after the reference is missed.
    if (q.digits !== null && !q.ref) {
      var ahead = q.words.map(wordTerms).concat([amountTerms(Number(q.digits))]);
      if (q.from) ahead.push(dateTerms(q.from, q.to));
      ahead.forEach(function (p) { p.catch(function () { /* asked again below */ }); });
    }
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
        // The prefix matches the whole words missed (`widen`, run after
        // the whole-word results are shown: they rank below them all).
        var widen = function (first) {
          return intersect(prefixed.concat(rest)).then(function (second) {
            var seen = new Set(first.indices);
            return { indices: second.indices.filter(function (i) { return !seen.has(i); }), complete: second.complete };
          });
        };
        if (exact.some(function (terms) { return !terms.length; })) return widen({ indices: [] });
        return intersect(exact.concat(rest)).then(function (first) {
          var same = prefixed.every(function (terms, i) { return terms.length === exact[i].length; });
          if (!same && first.indices.length < WANT && first.complete) first.widen = function () { return widen(first); };
          return first;
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

  // The results, newest first within the same number of whole words
  // matched (a prefix match ranks below).
  function rank(found, q) {
    return found.filter(function (r) { return matches(r, q); })
      .sort(function (a, b) { return exactness(b, q) - exactness(a, q) || b.seq - a.seq; });
  }
  // Records come in two steps, so that the first results show before the
  // others arrive: the shards of the FIRST newest candidates (a phone
  // screen), then the rest. The first step's results that match every word
  // whole are shown at once: no later result can rank above them (a later
  // one is older, and at best matches as many words).
  var FIRST = 5;
  function showResults(top, q, m, mine) {
    var newest = top.slice().sort(function (a, b) { return b - a; }).slice(0, FIRST);
    return records(newest, m).then(function (early) {
      if (mine !== generation) return null;
      var sure = rank(early, q).filter(function (r) { return exactness(r, q) === q.words.length; });
      var rows = sure.map(function (r) { return show(r, m); });
      return records(top, m).then(function (found) {
        if (mine !== generation) return null;
        var shown = rank(found, q).slice(0, WANT);
        if (shown.slice(0, rows.length).some(function (r, i) { return r.seq !== rows[i].record.seq; })) {
          list.textContent = ''; // cannot happen, but never show a wrong order
          rows = [];
        }
        return rows.concat(shown.slice(rows.length).map(function (r) { return show(r, m); }));
      });
    });
  }

  // Below the whole-word results, the prefix matches (`result.widen`).
  function widenResults(result, rows, q, m, mine) {
    if (!result.widen) return { rows: rows, complete: result.complete };
    return result.widen().then(function (extra) {
      return records(extra.indices.slice(0, WANT - result.indices.length), m).then(function (found) {
        if (mine !== generation) return null;
        var more = rank(found, q).slice(0, WANT - rows.length).map(function (r) { return show(r, m); });
        return { rows: rows.concat(more), complete: extra.complete };
      });
    });
  }

  var generation = 0;
  function run(text) {
    var mine = ++generation;
    var counted = newQuery();
    list.textContent = '';
    delete list.dataset.bytes;
    delete list.dataset.proofBytes;
    var q = parseQuery(text);
    statusLine.textContent = t('searching');
    return manifest().then(function (m) {
      return search(q, m).then(function (result) {
        if (mine !== generation) return;
        if (!result) { statusLine.textContent = t('empty'); return; }
        return showResults(result.indices.slice(0, WANT), q, m, mine).then(function (rows) {
          return rows && widenResults(result, rows, q, m, mine);
        }).then(function (done) {
          if (!done) return;
          var rows = done.rows;
          var message = rows.length ? t('found', { n: rows.length }) : t('none');
          if (rows.length >= WANT) message += ' ' + t('more', { n: WANT });
          if (!done.complete && rows.length < WANT) message += ' ' + t('partial');
          statusLine.textContent = message;
          list.dataset.bytes = String(counted.search);
          // The proofs start once every result is shown: they never hold
          // the connection the results need.
          return verifyAll(rows, mine).then(function () {
            if (mine === generation) list.dataset.proofBytes = String(counted.proof);
          });
        });
      });
    }).catch(function (error) {
      if (mine !== generation) return; // aborted by a newer query
      statusLine.textContent = t('error') + ' (' + error.message + ')';
    });
  }

  // ---- proofs (RFC 6962 / 9162 Merkle trees, C2SP tlog-tiles) -----------
  var log = function (path, kind) { return get(D.log + path, kind, 'proof'); };
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
      // The keys file: `origin <origin>`, then a key a line, a revoked one
      // followed by `revoked-from <tree size>`.
      var keys = [], origin = null;
      keysText.split('\n').forEach(function (line) {
        line = line.trim();
        if (!line || line[0] === '#') return;
        if (line.indexOf('origin ') === 0) { origin = line.slice(7); return; }
        var parts = line.split(' ');
        var revoked = parts.length === 3 && parts[1] === 'revoked-from' && /^\d+$/.test(parts[2]) ? Number(parts[2]) : null;
        if (parts.length === 1 || revoked !== null) keys.push({ text: parts[0], revokedFrom: revoked });
      });
      if (origin !== null && origin !== lines[0]) throw new Error('the checkpoint is of the log ' + lines[0] + ', not ' + origin);
      var signer = null, revokedSigner = null;
      for (var published of keys) {
        // `name+id+base64`: names hold no `+` and ids are 8 hex digits, but
        // base64 may hold `+`, so split at the first two only.
        var text = published.text, first = text.indexOf('+'), second = text.indexOf('+', first + 1);
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
          if (!await crypto.subtle.verify({ name: 'Ed25519' }, publicKey, blob.slice(4), enc.encode(body))) continue;
          // A key revoked at or before this tree's size vouches for nothing:
          // whoever holds it signs forks.
          if (published.revokedFrom !== null && published.revokedFrom <= size) revokedSigner = name + ' (revoked from tree size ' + published.revokedFrom + ')';
          else signer = name;
        }
      }
      if (!signer && revokedSigner) throw new Error('the checkpoint is signed by a revoked key: ' + revokedSigner);
      if (!signer) throw new Error('the checkpoint is not signed by a published key');
      var result = { note: note, origin: lines[0], size: size, root: root, signer: signer };
      await remember(result);
      return result;
    });
    var mine = checkpointPromise;
    mine.catch(function () { if (checkpointPromise === mine) checkpointPromise = null; }); // try again next time
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
    var url = D.log + path;
    return once(url + '#' + from + '-' + to, 'proof', function (signal) {
      return fetch(url, { headers: { Range: 'bytes=' + from + '-' + to }, signal: signal });
    }, function (response, bytes) {
      var size = /\/(\d+)$/.exec(response.headers.get('Content-Range') || '');
      size = size ? Number(size[1]) : 0;
      if (response.status === 416) return { bytes: new Uint8Array(0), whole: false, size: size };
      if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
      var whole = response.status !== 206;
      if (whole) {
        rangesWork = false;
        if (!cache.has(url)) cache.set(url, { settled: true, owner: null, promise: Promise.resolve(bytes) });
      }
      return { bytes: bytes, whole: whole, size: size };
    });
  }
  // `lineGuess`: bytes per line to assume before any bundle was seen whole
  // (0: fetch the whole bundle then).
  async function entryLine(seq, path, width, lineGuess) {
    var position = seq % 256, url = D.log + path;
    if (probe) await probe.catch(function () { /* the whole bundle will say */ });
    var mean = meanLine || lineGuess;
    if (mean && rangesWork && !cache.has(url)) {
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
    var fund = M.funds[position], key = cp.size + ':' + position;
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
  function plain(text) {
    return String(text).replace(/[\u202a-\u202e\u2066-\u2069]/g, '').replace(/[\t\n\r]/g, ' ');
  }
  // Proves one result: its exact entry line from the entry bundle, its
  // inclusion in the signed tree, the corrections it depends on and its
  // fund's entry, and that the page shows what they say: every field shown
  // (donor, amount, date, reference, fund, voided or amended).
  async function prove(record) {
    var cp = await checkpoint();
    var proven = await Promise.all([current(record.seq, record.corrections, cp, 0), fundName(record.fundIndex, cp)]);
    var donation = proven[0], body = donation.body;
    if (body.kind !== 'donation') throw new Error('entry ' + record.seq + ' is not a donation');
    var differ = [];
    if (plain(body.donor) !== record.donor) differ.push('donor');
    if (body.amount !== record.amount) differ.push('amount');
    if (body.date !== record.date) differ.push('date');
    if (plain(body.ref || '') !== record.ref) differ.push('ref');
    if (body.fund !== record.fund[0] || proven[1] !== record.fund[1]) differ.push('fund');
    if (donation.voided !== record.voided) differ.push('voided');
    if (donation.amended !== record.amended) differ.push('amended');
    if (differ.length) throw new Error('the index differs from the proven entry (' + differ.join(', ') + ')');
    var receipt = 'c2sp.org/tlog-proof@v1\nextra ' + b64(donation.line) + '\nindex ' + record.seq + '\n' +
      donation.path.map(function (h) { return b64(h) + '\n'; }).join('') + '\n' + cp.note;
    return receipt;
  }
  // The first AUTO_PROOFS results are proven at once; each of the others
  // on request. The first result is proven alone: its verdict does not share
  // the connection, and the others then know the mean line length and
  // whether the host answers ranges. The next four go together.
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
    if (!rows.length) return Promise.resolve();
    return verifyRow(rows[0], mine).then(function () {
      return Promise.all(rows.slice(1, AUTO_PROOFS).map(function (row) { return verifyRow(row, mine); }));
    });
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
  // Fetched ahead while the visitor types (a few hundred bytes, counted in
  // the first query): the manifest every search starts with, and the signed
  // checkpoint and keys every proof starts with, checked already. Each would
  // otherwise cost a round trip after the submit.
  manifest().catch(function () { /* reported by the search */ });
  if (window.crypto && crypto.subtle) checkpoint().catch(function () { /* reported by the proofs */ });
  var initial = new URLSearchParams(location.search).get('q');
  if (initial) { input.value = initial; run(initial); }
}());
