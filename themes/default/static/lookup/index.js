// The static index under tra-cuu/chi-muc/ (format in src/site/lookup.rs):
// the query, the dictionary, postings chunks, records, and the search that
// gives the exact count and every result, adjacent words first. No DOM:
// the files come through `fetchFile(path, kind)` (kind 'text' or bytes),
// so `node --test` runs it against an index the Rust side wrote.

import { FORMAT_VERSION, dictionaryShard, escape, fold, foldReference, tokens } from './fold.js';

// ---- the query -------------------------------------------------------------

const DATE = '(\\d{1,2}/\\d{1,2}/\\d{4}|\\d{4}-\\d{1,2}-\\d{1,2})';
export function parseDate(text) {
  let m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
  let y, mo, d;
  if (m) { d = +m[1]; mo = +m[2]; y = +m[3]; } else {
    m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text);
    if (!m) return null;
    y = +m[1]; mo = +m[2]; d = +m[3];
  }
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return date;
}
const UNITS = { k: 1e3, ng: 1e3, nghin: 1e3, ngan: 1e3, tr: 1e6, trieu: 1e6, m: 1e6, ty: 1e9, ti: 1e9 };
export function parseAmount(token) {
  if (/^\d{1,3}([.,]\d{3})+$/.test(token)) return Number(token.replace(/[.,]/g, ''));
  if (/^\d{1,3}(\.\d{3})+,00$/.test(token)) return Number(token.slice(0, -3).replace(/\./g, ''));
  const m = /^(\d+)(?:[.,](\d+))?(k|ng|nghin|ngan|tr|trieu|m|ty|ti)$/.exec(token);
  if (!m) return null;
  const unit = UNITS[m[3]];
  let value = Number(m[1]) * unit;
  if (m[2]) value += Math.round(Number(m[2]) * unit / Math.pow(10, m[2].length));
  return value;
}

/**
 * A query: its words in runs of adjacent words (as typed), codes, an
 * amount, a day or range of days, and bare digits (a code if the index has
 * it, else an amount).
 */
export function parseQuery(text) {
  const q = { runs: [], codes: [], amount: null, from: null, to: null, digits: null };
  let s = fold(String(text).trim()).replace(/(\d)\s+(k|nghin|ngan|tr|trieu|ty)\b/g, '$1$2');
  const range = new RegExp(DATE + '\\s*(?:\\.\\.|–|—|-|den|to)\\s*' + DATE).exec(s);
  if (range) {
    const a = parseDate(range[1]), b = parseDate(range[2]);
    if (a && b) { q.from = a < b ? a : b; q.to = a < b ? b : a; s = s.replace(range[0], ' '); }
  }
  const rest = [];
  for (const token of s.split(' ')) {
    if (!token) continue;
    const date = parseDate(token);
    const amount = parseAmount(token);
    if (date) { q.from = q.to = date; rest.push('0'); } else if (amount !== null) { q.amount = amount; rest.push('0'); } else if (/^\d+$/.test(token)) { q.digits = token; rest.push('0'); } else rest.push(token);
  }
  const found = tokens(rest.join(' '));
  q.runs = found.runs;
  q.codes = found.codes;
  return q;
}

/**
 * A query from the query box (`q`) and the separate fields: `name` (words,
 * typed in order), `amount` (`500.000`, `500k`, `500000`), `from` and `to`
 * (a day, or a range of days: `2024-09-15` as date inputs give it, or
 * `15/09/2024`) and `code` (a bank reference or a code of the description).
 * A field adds to what the box says.
 */
export function parseFields(fields) {
  const q = parseQuery(fields.q || '');
  if (fields.name) q.runs.push(...tokens(fields.name).runs);
  if (fields.amount) {
    const typed = fold(fields.amount).replace(/\s+/g, '');
    const amount = /^\d+$/.test(typed) ? Number(typed) : parseAmount(typed);
    if (amount !== null) q.amount = amount;
  }
  const from = fields.from ? parseDate(fields.from.trim()) : null;
  const to = fields.to ? parseDate(fields.to.trim()) : null;
  if (from || to) {
    const [a, b] = [from || to, to || from];
    q.from = a < b ? a : b;
    q.to = a < b ? b : a;
  }
  if (fields.code) {
    const found = tokens(fields.code).codes;
    q.codes.push(...(found.length ? found : [foldReference(fields.code)]));
  }
  return q;
}

// ---- files -----------------------------------------------------------------

function deltas(text) {
  let previous = 0;
  return text.split(',').map((d) => { previous += parseInt(d, 36); return previous; });
}

// Runs of consecutive donations, `gap,length − 1` pairs in base 36 →
// [[first, last], …].
function runsOf(text) {
  const values = text.split(',').map((v) => parseInt(v, 36));
  const out = [];
  let end = 0;
  for (let i = 0; i + 1 < values.length; i += 2) {
    const first = end + values[i];
    end = first + values[i + 1] + 1;
    out.push([first, end - 1]);
  }
  return out;
}

/**
 * A dictionary shard's text → term key → term. A line is `term, count,
 * newest[, inline postings[, chunk starts[, runs]]]`: a term with runs has
 * no postings files (`ix.load` makes its chunks from them).
 */
export function parseDictionary(text, chunk) {
  const terms = new Map();
  for (const line of (text || '').split('\n')) {
    if (!line) continue;
    const f = line.split('\t');
    const count = +f[1];
    const term = {
      key: f[0], count, newest: +f[2], loaded: new Map(),
      chunks: f[3] ? 0 : Math.ceil(count / chunk), starts: f[4] ? deltas(f[4]) : [0], runs: null,
    };
    if (f[3]) { term.loaded.set(0, deltas(f[3])); term.starts = [term.loaded.get(0)[0]]; }
    if (f[5]) {
      term.runs = runsOf(f[5]);
      if (!f[4]) term.starts = [term.runs[0][0]];
    }
    terms.set(f[0], term);
  }
  return terms;
}

// Chunk k of a term in runs: its postings k·chunk … (k+1)·chunk − 1.
function chunkFromRuns(term, k, chunk) {
  let skip = k * chunk;
  const out = [];
  for (const [first, last] of term.runs) {
    const length = last - first + 1;
    if (skip >= length) { skip -= length; continue; }
    for (let x = first + skip; x <= last && out.length < chunk; x++) out.push(x);
    skip = 0;
    if (out.length === chunk) break;
  }
  return out;
}

function readVarint(bytes, at) {
  let value = 0, scale = 1, byte;
  do { byte = bytes[at.i++]; value += (byte & 0x7f) * scale; scale *= 128; } while (byte & 0x80);
  return value;
}
/** A postings chunk: varint deltas (0), a bitmap (1) or runs (2). */
export function decodeChunk(bytes) {
  const at = { i: 1 };
  const out = [];
  if (bytes[0] === 2) {
    let end = 0;
    while (at.i < bytes.length) {
      const start = end + readVarint(bytes, at), length = readVarint(bytes, at) + 1;
      for (let x = start; x < start + length; x++) out.push(x);
      end = start + length;
    }
    return out;
  }
  const first = readVarint(bytes, at);
  if (bytes[0] === 0) {
    out.push(first);
    while (at.i < bytes.length) out.push(out[out.length - 1] + readVarint(bytes, at));
    return out;
  }
  if (bytes[0] !== 1) throw new Error('unknown postings encoding ' + bytes[0]);
  for (let i = at.i; i < bytes.length; i++) {
    for (let bit = 0; bit < 8; bit++) if (bytes[i] & (1 << bit)) out.push(first + (i - at.i) * 8 + bit);
  }
  return out;
}

/** One line of a record shard. */
export function parseRecord(line, index, manifest) {
  const f = line.split('\t');
  if (f.length < 12) throw new Error('record ' + index + ' is malformed');
  return {
    index, seq: +f[0], donor: f[1], amount: +f[2], date: f[3], fundIndex: +f[4],
    fund: manifest.funds[+f[4]] || ['', ''], ref: f[5],
    voided: f[6].indexOf('v') >= 0, amended: f[6].indexOf('a') >= 0,
    corrections: (f[7] || '').split(',').filter(Boolean).map(Number),
    time: f[8], account: f[9], description: f[10], note: f[11],
  };
}

// The chunk that would hold donation x (-1: before the term's first).
function chunkOf(term, x) {
  if (!term.chunks) return x < term.starts[0] ? -1 : 0;
  let lo = 0, hi = term.starts.length - 1;
  if (x < term.starts[0]) return -1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (term.starts[mid] <= x) lo = mid; else hi = mid - 1;
  }
  return lo;
}
function has(term, x) {
  if (x > term.newest) return false;
  const k = chunkOf(term, x);
  if (k < 0) return false;
  const postings = term.loaded.get(k); // ascending
  let lo = 0, hi = postings.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (postings[mid] === x) return true;
    if (postings[mid] < x) lo = mid + 1; else hi = mid - 1;
  }
  return false;
}
// The postings in chunk k: M.chunk, but fewer in a term's newest.
function chunkLast(term, k) {
  return k + 1 < term.starts.length ? term.starts[k + 1] - 1 : term.newest;
}

// ---- the search ------------------------------------------------------------

/**
 * Opens the index: `fetchFile(path, kind)` resolves to the file's text
 * (kind 'text') or bytes, or null when there is none.
 */
export function openIndex(fetchFile) {
  const shards = new Map();
  let manifestPromise = null;
  const ix = {
    manifest: null,
    async open() {
      if (!manifestPromise) {
        manifestPromise = fetchFile('manifest.json', 'text').then((text) => {
          if (text === null) throw new Error('no manifest');
          const m = JSON.parse(text);
          // A cached script meeting an index of another version says so.
          if (m.version !== FORMAT_VERSION) {
            const error = new Error('index version ' + m.version + ', page version ' + FORMAT_VERSION);
            error.version = m.version;
            throw error;
          }
          ix.manifest = m;
          return m;
        });
        manifestPromise.catch(() => { manifestPromise = null; });
      }
      return manifestPromise;
    },
    dictionary(shard) {
      if (!shards.has(shard)) {
        const p = fetchFile('d/' + shard, 'text').then((text) => parseDictionary(text, ix.manifest.chunk));
        p.catch(() => shards.delete(shard));
        shards.set(shard, p);
      }
      return shards.get(shard);
    },
    term(key) {
      return ix.dictionary(dictionaryShard(key, ix.manifest.code_bits)).then((terms) => terms.get(key) || null);
    },
    load(term, k) {
      if (term.loaded.has(k)) return Promise.resolve();
      if (term.runs) {
        term.loaded.set(k, chunkFromRuns(term, k, ix.manifest.chunk));
        return Promise.resolve();
      }
      if (!term.pending) term.pending = new Map();
      if (!term.pending.has(k)) {
        term.pending.set(k, fetchFile('p/' + term.key + '/' + k).then((bytes) => {
          if (!bytes) throw new Error('missing postings ' + term.key + '/' + k);
          term.loaded.set(k, decodeChunk(bytes));
        }).finally(() => term.pending.delete(k)));
      }
      return term.pending.get(k);
    },
    async records(indices) {
      const m = ix.manifest;
      const wanted = Array.from(new Set(indices.map((i) => Math.floor(i / m.records))));
      const texts = await Promise.all(wanted.map((k) => fetchFile('r/' + k, 'text')));
      const byShard = new Map();
      wanted.forEach((k, n) => byShard.set(k, (texts[n] || '').split('\n')));
      return indices.map((i) => {
        const line = byShard.get(Math.floor(i / m.records))[i % m.records];
        if (line === undefined) throw new Error('no record ' + i);
        return parseRecord(line, i, m);
      });
    },
  };
  return ix;
}

function ymd(date) { return date.toISOString().slice(0, 10).replace(/-/g, ''); }

/** A criterion: the terms whose postings are united, and whether they overlap. */
function criterion(terms, disjoint) {
  return { terms, disjoint, count: terms.reduce((n, t) => n + t.count, 0) };
}

// The terms of a word: the whole word if the index has it, else (or when
// widening) every word it begins, from two characters ("va" finds "van").
async function wordCriterion(ix, word, widen) {
  const key = 'w' + escape(word);
  const terms = await ix.dictionary(dictionaryShard(key, 0));
  if (terms.has(key) && !widen) return { criterion: criterion([terms.get(key)], true), whole: true };
  if (Array.from(word).length < 2) return { criterion: criterion([], true), whole: false };
  const prefixed = Array.from(terms.values()).filter((t) => t.key.startsWith(key));
  return { criterion: criterion(prefixed, prefixed.length < 2), whole: false };
}
async function dateCriterion(ix, from, to) {
  const days = [];
  for (const d = new Date(to); d >= from && days.length < 400; d.setUTCDate(d.getUTCDate() - 1)) days.push(ymd(d));
  const found = await Promise.all(days.map((day) => ix.term('d' + day)));
  return criterion(found.filter(Boolean), true);
}
async function single(ix, key) {
  const term = await ix.term(key);
  return criterion(term ? [term] : [], true);
}

/**
 * The adjacency terms of a run of words typed in order: its pair for two
 * words, each three adjacent words for more (a phrase of three is one
 * term, its list and exact count one dictionary line).
 */
export function adjacencyKeys(run) {
  if (run.length === 2) return ['b' + escape(run[0]) + '.' + escape(run[1])];
  const keys = [];
  for (let i = 0; i + 2 < run.length; i++) keys.push('t' + run.slice(i, i + 3).map(escape).join('.'));
  return keys;
}

/**
 * The criteria of a query: { all, phrase, prefix }: `all`, every word
 * anywhere and the other criteria; `phrase` (null if the query has no run
 * of two words or more, or a word is not whole), every run's words adjacent
 * and in order, which implies `all`; `prefix`, whether a word stands for
 * the words it begins.
 */
export async function criteria(ix, q, widen) {
  const others = [];
  if (q.digits !== null) {
    const asCode = await ix.term('c' + escape(q.digits));
    if (asCode) others.push(criterion([asCode], true));
    else q.amount = Number(q.digits);
  }
  const pending = [];
  if (q.amount !== null && q.from && q.from.getTime() === q.to.getTime()) {
    // An amount on a day: one term.
    pending.push(single(ix, 'x' + q.amount + '-' + ymd(q.from)));
  } else {
    if (q.amount !== null) pending.push(single(ix, 'a' + q.amount));
    if (q.from) pending.push(dateCriterion(ix, q.from, q.to));
  }
  for (const code of q.codes) pending.push(single(ix, 'c' + escape(foldReference(code))));
  const words = q.runs.map((run) => Promise.all(run.map((w) => wordCriterion(ix, w, widen))));
  const adjacency = q.runs.map((run) => Promise.all(adjacencyKeys(run).map((key) => ix.term(key))));
  const [rest, runs, adjacent] = await Promise.all([Promise.all(pending), Promise.all(words), Promise.all(adjacency)]);
  others.push(...rest);
  const all = runs.flat().map((w) => w.criterion).concat(others);
  let phrase = null;
  if (q.runs.some((run) => run.length > 1) && runs.flat().every((w) => w.whole)) {
    phrase = adjacent.some((terms) => terms.some((t) => !t))
      ? [criterion([], true)]
      : q.runs.flatMap((run, i) => (run.length > 1 ? adjacent[i].map((t) => criterion([t], true)) : [runs[i][0].criterion]))
        .concat(others);
  }
  // A word the index does not have whole is a typed part of a word.
  const prefix = runs.flat().some((w) => !w.whole);
  return { all, phrase, prefix };
}

// A window: the intervals [first, last] of donations, ascending and
// disjoint, where a match may be.
function inWindow(x, window) {
  let lo = 0, hi = window.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (x < window[mid][0]) hi = mid - 1;
    else if (x > window[mid][1]) lo = mid + 1;
    else return true;
  }
  return false;
}

// The chunks of a term that hold donations within a window.
function chunksIn(term, window) {
  const ks = new Set();
  for (const [lo, hi] of window) {
    const first = Math.max(0, chunkOf(term, lo));
    const last = chunkOf(term, hi);
    for (let k = first; k <= last; k++) if (chunkLast(term, k) >= lo) ks.add(k);
  }
  return Array.from(ks);
}

// Every posting of a union of terms within a window, ascending.
async function postingsWithin(ix, terms, window) {
  await Promise.all(terms.flatMap((term) => chunksIn(term, window).map((k) => ix.load(term, k))));
  const out = new Set();
  for (const term of terms) {
    term.loaded.forEach((postings) => postings.forEach((x) => { if (inWindow(x, window)) out.add(x); }));
  }
  return Array.from(out).sort((a, b) => a - b);
}

// The estimated bytes of chunk k (known before it is fetched): the smaller
// of a bitmap of the indices it spans and varint deltas.
function chunkBytes(ix, term, k) {
  if (term.runs) return 0; // in the dictionary line
  const postings = k === term.chunks - 1 ? term.count - k * ix.manifest.chunk : ix.manifest.chunk;
  const span = chunkLast(term, k) - term.starts[k] + 1;
  return Math.ceil(Math.min(span / 8, postings * (span / postings > 128 ? 2 : 1)));
}
const CHEAP = 24 * 1024; // a criterion's chunks fetched along in the same round trip: what 150 ms carries at 1.6 Mbit/s
const WAVE = 48 * 1024; // every criterion's chunks fetched in one round trip

// Candidates (ascending) that are in every criterion of `rest`: each
// criterion, rarest first, fetches only the chunks holding a candidate; in
// each round trip the next criterion goes, and every other one whose chunks
// are cheap.
async function filterBy(ix, candidates, rest) {
  while (rest.length && candidates.length) {
    const needs = rest.map((c) => {
      const chunks = new Map();
      for (const term of c.terms) {
        for (const x of candidates) {
          if (x > term.newest) break;
          const k = chunkOf(term, x);
          if (k >= 0 && !term.loaded.has(k)) chunks.set(term.key + '/' + k, [term, k]);
        }
      }
      let bytes = 0;
      chunks.forEach(([term, k]) => { bytes += chunkBytes(ix, term, k); });
      return { c, chunks, bytes };
    });
    // Round trips, not bytes, are what a phone waits for: everything at
    // once when it is little.
    const total = needs.reduce((sum, n) => sum + n.bytes, 0);
    // The cheapest criterion goes first (a day's runs before a word's
    // bitmaps, which then need only the chunks of that day).
    const cheapest = needs.reduce((best, n) => (n.bytes < best.bytes ? n : best), needs[0]);
    const now = needs.filter((n) => n === cheapest || n.bytes <= CHEAP || total <= WAVE);
    await Promise.all(now.flatMap((n) => Array.from(n.chunks.values(), ([term, k]) => ix.load(term, k))));
    for (const n of now) candidates = candidates.filter((x) => n.c.terms.some((t) => has(t, x)));
    rest = rest.filter((c) => !now.some((n) => n.c === c));
  }
  return candidates;
}

// The bytes of a criterion's chunks within a window still to fetch,
// estimated from the dictionary (inline postings and runs cost nothing).
function bytesWithin(ix, c, window) {
  let bytes = 0;
  for (const term of c.terms) {
    if (!term.chunks) continue;
    for (const k of chunksIn(term, window)) if (!term.loaded.has(k)) bytes += chunkBytes(ix, term, k);
  }
  return bytes;
}

// Where every criterion allows a match: lo..hi, within the runs of each
// criterion whose terms are all in runs (a day: one run per statement).
function windowOf(list, lo, hi) {
  let window = [[lo, hi]];
  for (const c of list) {
    if (!c.terms.every((t) => t.runs)) continue;
    // The terms' runs, merged where they overlap (a union of words may).
    const runs = [];
    for (const [x, y] of c.terms.flatMap((t) => t.runs).sort((a, b) => a[0] - b[0])) {
      const last = runs[runs.length - 1];
      if (last && x <= last[1] + 1) last[1] = Math.max(last[1], y); else runs.push([x, y]);
    }
    const next = [];
    for (const [a, b] of window) {
      for (const [x, y] of runs) if (Math.max(a, x) <= Math.min(b, y)) next.push([Math.max(a, x), Math.min(b, y)]);
    }
    window = next;
  }
  return window;
}

// The window every criterion allows (from `floor` on), and the criteria:
// rarest first, but, unless all of their chunks in the window are little
// (then fetched in one round trip), the rarest of those nearly cheapest to
// fetch before (it gives the candidates).
function plan(ix, list, floor = 0) {
  const hi = Math.min(...list.map((c) => Math.max(...c.terms.map((t) => t.newest))));
  const lo = Math.max(floor, ...list.map((c) => Math.min(...c.terms.map((t) => t.starts[0]))));
  const window = hi >= lo ? windowOf(list, lo, hi) : [];
  list = list.slice().sort((a, b) => a.count - b.count);
  const costs = list.map((c) => bytesWithin(ix, c, window));
  const small = costs.reduce((sum, bytes) => sum + bytes, 0) <= WAVE;
  if (!small) {
    const cheapest = Math.min(...costs);
    const driver = costs.findIndex((bytes) => bytes <= cheapest + CHEAP);
    list.unshift(list.splice(driver, 1)[0]);
  }
  return { list, lo, hi, small, window };
}
// Fetches every chunk of the criteria within a window (terms in runs need
// none: their chunks are made when a candidate asks).
function loadWithin(ix, list, window) {
  return Promise.all(list.flatMap((c) => c.terms.filter((term) => !term.runs)
    .flatMap((term) => chunksIn(term, window).map((k) => ix.load(term, k)))));
}

/**
 * Every donation in all the criteria from `floor` on, ascending (the exact
 * set): the rarest criterion's postings within the range all allow are
 * the candidates, filtered by the others.
 */
export async function intersectAll(ix, criteriaList, floor = 0) {
  if (!criteriaList.length || criteriaList.some((c) => !c.terms.length)) return [];
  const { list, small, window } = plan(ix, criteriaList, floor);
  if (!window.length) return [];
  if (small) await loadWithin(ix, list, window);
  const candidates = await postingsWithin(ix, list[0].terms, window);
  return filterBy(ix, candidates, list.slice(1));
}

/**
 * The newest `want` donations in all the criteria, newest first, without
 * the whole set: the rarest criterion's chunks are taken newest first (one,
 * then two, then four at a time) and filtered by the others, until `want`
 * are found. `{ found, complete }`: complete when the criteria hold no more.
 */
export async function intersectNewest(ix, criteriaList, want, floor = 0) {
  if (!criteriaList.length || criteriaList.some((c) => !c.terms.length)) return { found: [], complete: true };
  const { list, lo, hi, small, window } = plan(ix, criteriaList, floor);
  if (!window.length) return { found: [], complete: true };
  if (small || list[0].terms.length !== 1) {
    const all = await intersectAll(ix, list, floor);
    return { found: all.reverse().slice(0, want), complete: all.length <= want };
  }
  const term = list[0].terms[0];
  const bottom = Math.max(0, chunkOf(term, lo));
  let k = chunkOf(term, hi);
  // All of the rarest criterion's chunks at once when they are little.
  let step = bytesWithin(ix, list[0], window) <= WAVE ? k - bottom + 1 : 1;
  const found = [];
  while (k >= bottom) {
    const ks = [];
    for (let i = 0; i < step && k >= bottom; i++, k--) ks.push(k);
    await Promise.all(ks.map((c) => ix.load(term, c)));
    const candidates = [];
    for (const c of ks.slice().reverse()) {
      for (const x of term.loaded.get(c)) if (inWindow(x, window)) candidates.push(x);
    }
    const passed = await filterBy(ix, candidates, list.slice(1));
    found.push(...passed.reverse());
    if (found.length >= want) return { found: found.slice(0, want), complete: found.length === want && k < bottom };
    step = Math.min(4, step * 2);
  }
  return { found, complete: true };
}

/**
 * The first donation a search with a typed part of a word (a prefix: a
 * union of every word it begins) looks at: the newest part of the log
 * whose chunks, of every criterion, are estimated at `budget` bytes or
 * less (0 when the whole log is).
 */
export function prefixFloor(ix, list, budget) {
  if (!list.length || list.some((c) => !c.terms.length)) return 0;
  const { lo, hi } = plan(ix, list);
  const cost = (x) => list.reduce((sum, c) => sum + bytesWithin(ix, c, [[x, hi]]), 0);
  if (!(hi >= lo) || cost(lo) <= budget) return 0;
  let below = lo, within = hi + 1; // cost(below) > budget >= cost(within)
  while (below + 1 < within) {
    const middle = Math.floor((below + within) / 2);
    if (cost(middle) <= budget) within = middle; else below = middle;
  }
  return within;
}

/**
 * The donations of one criterion whose terms do not overlap, newest first,
 * a chunk of each term at a time: `more(n)` resolves to the next n (fewer
 * at the end).
 */
function streamDisjoint(ix, terms) {
  // Per term, the next chunk to load, newest first (-1: all loaded).
  const next = terms.map((t) => (t.chunks ? t.starts.length - 1 : -1));
  let emitted = Infinity; // the oldest donation given out so far
  // Every posting above this is loaded: the top of the newest chunk not
  // yet loaded, of any term.
  function bound() {
    let b = -1;
    terms.forEach((t, i) => { if (next[i] >= 0) b = Math.max(b, chunkLast(t, next[i])); });
    return b;
  }
  return async function more(count) {
    for (;;) {
      const b = bound();
      const known = [];
      for (const t of terms) t.loaded.forEach((postings) => postings.forEach((x) => { if (x > b && x < emitted) known.push(x); }));
      if (known.length >= count || b < 0) {
        known.sort((x, y) => y - x);
        const taken = known.slice(0, count);
        if (taken.length) emitted = taken[taken.length - 1];
        return taken;
      }
      const loads = [];
      terms.forEach((t, i) => {
        if (next[i] >= 0 && chunkLast(t, next[i]) === b) { loads.push(ix.load(t, next[i])); next[i]--; }
      });
      await Promise.all(loads);
    }
  };
}

/**
 * The bytes a search with a typed part of a word (the words it begins,
 * united) may fetch for its postings: past them, only the newest part of
 * the log is searched (`scope` 'newest', from `floor` on).
 */
export const PREFIX_BUDGET = 48 * 1024;

function memo(make) {
  let promise = null;
  return () => promise || (promise = make());
}

function nothing() {
  return { scope: 'all', floor: 0, apart: null, count: async () => 0, slice: async () => [] };
}

// One criterion whose terms do not overlap: the exact count from the
// dictionary, the postings newest first, a chunk at a time.
function streamed(ix, c, scope) {
  const more = streamDisjoint(ix, c.terms);
  const taken = [];
  return {
    scope, floor: 0, apart: null,
    count: async () => c.count,
    async slice(from, to) {
      if (taken.length < to) taken.push(...await more(to - taken.length));
      return taken.slice(from, to);
    },
  };
}

// Every match of `all` from `floor` on: the phrase matches (if `phrase`)
// newest first, then the others newest first. Without a phrase, the first
// page comes without the whole set.
function everyMatch(ix, all, phrase, size, floor) {
  const everything = memo(() => intersectAll(ix, all, floor));
  const phrased = memo(() => (phrase ? intersectAll(ix, phrase, floor) : Promise.resolve([])));
  const ranked = memo(() => Promise.all([phrased(), everything()]).then(([p, e]) => {
    const inPhrase = new Set(p);
    return e.filter((x) => inPhrase.has(x)).reverse().concat(e.filter((x) => !inPhrase.has(x)).reverse());
  }));
  const first = memo(async () => (phrase ? null : (await intersectNewest(ix, all, size, floor)).found));
  return {
    scope: floor ? 'newest' : 'all', floor, apart: null,
    count: async () => (await everything()).length,
    async slice(from, to) {
      if (from === 0 && to <= size) {
        const found = await first();
        if (found) return found.slice(0, to);
      }
      return (await ranked()).slice(from, to);
    },
  };
}

/**
 * Searches: resolves to null for a query with nothing to search, else to a
 * cursor `{ scope, floor, count(), slice(from, to), apart }`. `slice`
 * resolves to the indices of results from … to − 1 in rank order, `count()`
 * to how many `slice` reaches, exactly. `scope` says what they are:
 *
 * - 'phrase': every run of words typed in order found adjacent and in
 *   order (with the other criteria), newest first: what a donor means by a
 *   name. Its list and exact count are a dictionary line (three words are
 *   one term) or a small intersection. `apart()` resolves to the cursor of
 *   scope 'all' that ranks these first, then the transfers holding the
 *   words apart: asked for only when wanted, as it needs every word's whole
 *   postings (about a tenth of the log for a common name's words).
 * - 'all': every word anywhere, and every other criterion, newest first.
 * - 'newest': a typed part of a word (whole words found nothing: every
 *   word of two characters or more then finds the words it begins), searched
 *   from donation `floor` on, so that its postings stay within
 *   `prefixBudget` bytes (`PREFIX_BUDGET`).
 */
export async function search(ix, q, size, options = {}) {
  const widen = Boolean(options.widen);
  const { all, phrase, prefix } = await criteria(ix, q, widen);
  if (!all.length) return null;
  const canWiden = !widen && q.runs.some((run) => run.some((w) => Array.from(w).length > 1));
  const widened = () => search(ix, q, size, { ...options, widen: true });
  if (all.some((c) => !c.terms.length)) return canWiden ? widened() : nothing();
  if (all.length === 1 && all[0].disjoint) {
    // One word, an amount, a day or range, a code: the count is in the
    // dictionary and the postings come newest first.
    return streamed(ix, all[0], 'all');
  }
  if (phrase && phrase.every((c) => c.terms.length)) {
    const apart = memo(async () => everyMatch(ix, all, phrase, size, 0));
    if (phrase.length === 1 && phrase[0].disjoint) return { ...streamed(ix, phrase[0], 'phrase'), apart };
    const newest = await intersectNewest(ix, phrase, size);
    if (newest.found.length) {
      const matches = memo(async () => (newest.complete ? newest.found : (await intersectAll(ix, phrase)).reverse()));
      return {
        scope: 'phrase', floor: 0, apart,
        count: async () => (await matches()).length,
        async slice(from, to) {
          if (to <= newest.found.length) return newest.found.slice(from, to);
          return (await matches()).slice(from, to);
        },
      };
    }
    // No phrase match: every word anywhere, newest first.
  }
  const floor = prefix ? prefixFloor(ix, all, options.prefixBudget || PREFIX_BUDGET) : 0;
  const cursor = everyMatch(ix, all, null, size, floor);
  if (canWiden && !(await cursor.slice(0, size)).length) return widened();
  return cursor;
}
