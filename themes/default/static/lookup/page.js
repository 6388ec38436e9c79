// minhbach lookup page: searches the static index under tra-cuu/chi-muc/
// (index.js) and proves each result against the signed public log under
// ledger/ (proof.js, note.js). ES modules without a build step; no
// dependencies, no external requests. Every text from the ledger goes into
// the page as text (textContent, text nodes), never as HTML.

import { FORMAT_VERSION } from './fold.js';
import { openIndex, parseFields, search } from './index.js';
import { createProver } from './proof.js';
import { b64 } from './note.js';

const form = document.getElementById('lookup');
const D = form ? form.dataset : {};
const PAGE = 10; // results per page: a phone screen or two

function t(key, values) {
  let text = D['t' + key.charAt(0).toUpperCase() + key.slice(1)] || key;
  for (const name in values || {}) text = text.split('{' + name + '}').join(values[name]);
  return text;
}

// ---- fetching, with a byte count per query ---------------------------------
// Every file is fetched once per page (`cache` holds the promise, so results
// proven at the same time share one request for the checkpoint, the keys and
// the hash tiles near the top of the tree). Bytes are counted per query:
// `search` until the first page of results is shown, `count` for what the
// exact count needed after it, `more` for further pages, `apart` for the
// words apart (asked for with a button), `proof` for the proofs. What is fetched ahead, before the first query, is counted in it.
// A new query aborts the fetches the previous one still has under way.
let meter = { search: 0, count: 0, more: 0, apart: 0, proof: 0, phase: 'search' };
const cache = new Map();
let controller = null;
function once(key, bucket, request, read) {
  let entry = cache.get(key);
  if (!entry) {
    const counted = meter;
    entry = { settled: false, owner: controller };
    entry.promise = request(controller ? controller.signal : undefined).then((response) =>
      response.arrayBuffer().then((buffer) => {
        counted[bucket === 'proof' ? 'proof' : counted.phase] += buffer.byteLength;
        return read(response, new Uint8Array(buffer));
      }));
    const settle = () => { entry.settled = true; };
    entry.promise.then(settle, () => {
      settle();
      if (cache.get(key) === entry) cache.delete(key); // a later query may try again
    });
    cache.set(key, entry);
  }
  return entry.promise;
}
function get(url, kind, bucket) {
  return once(url, bucket, (signal) => fetch(url, { signal }), (response, bytes) => {
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
    return bytes;
  }).then((bytes) => (bytes === null || kind !== 'text' ? bytes : new TextDecoder().decode(bytes)));
}
function newQuery() {
  if (controller) {
    controller.abort();
    prover.forgetFunds(); // a fund proof under way may have been aborted
    cache.forEach((entry, url) => {
      if (!entry.settled && entry.owner === controller) cache.delete(url);
    });
    meter = { search: 0, count: 0, more: 0, apart: 0, proof: 0, phase: 'search' };
  }
  controller = window.AbortController ? new AbortController() : { abort() {} };
  return meter;
}

const ix = openIndex((path, kind) => get(D.index + path, kind, 'search'));
const prover = createProver({
  log: (path, kind) => get(D.log + path, kind, 'proof'),
  hasWhole: (path) => cache.has(D.log + path),
  manifest: () => ix.manifest,
  // Bytes from..to of a file of the log: { bytes, whole: whether the host
  // sent the whole file instead, size: the file's size if it said }.
  range(path, from, to) {
    const url = D.log + path;
    return once(url + '#' + from + '-' + to, 'proof', (signal) =>
      fetch(url, { headers: { Range: 'bytes=' + from + '-' + to }, signal }), (response, bytes) => {
      let size = /\/(\d+)$/.exec(response.headers.get('Content-Range') || '');
      size = size ? Number(size[1]) : 0;
      if (response.status === 416) return { bytes: new Uint8Array(0), whole: false, size };
      if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
      const whole = response.status !== 206;
      if (whole && !cache.has(url)) cache.set(url, { settled: true, owner: null, promise: Promise.resolve(bytes) });
      return { bytes, whole, size };
    });
  },
});

// ---- showing ---------------------------------------------------------------
function el(tag, attributes, children) {
  const node = document.createElement(tag);
  for (const name in attributes || {}) node.setAttribute(name, attributes[name]);
  (children || []).forEach((child) => node.append(child)); // strings become text nodes
  return node;
}
function groupDigits(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '.'); }
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function showDate(iso) {
  const p = iso.split('-');
  if (D.lang === 'en') return Number(p[2]) + ' ' + MONTHS[Number(p[1]) - 1] + ' ' + p[0];
  return p[2] + '/' + p[1] + '/' + p[0];
}

function show(list, record) {
  const m = ix.manifest;
  const page = Math.floor(record.index / m.page_size) + 1;
  const donor = record.donor ? el('strong', {}, [record.donor]) : el('em', {}, [t('anonymous')]);
  const amount = groupDigits(record.amount) + ' ₫';
  const when = showDate(record.date) + (record.time ? ' ' + record.time : '');
  const facts = el('p', {}, [donor, ' · ', record.voided ? el('s', {}, [amount]) : amount, ' · ', when, ' · ',
    el('a', { href: D.funds + record.fund[0] + '/' }, [record.fund[1]])]);
  if (record.account) facts.append(' · ', t('account') + ' ', el('span', { class: 'account' }, [record.account]));
  if (record.ref) facts.append(' · ', el('code', {}, [record.ref]));
  if (record.voided) facts.append(' · ', el('strong', { class: 'voided-note' }, [t('voided')]));
  else if (record.amended) facts.append(' · ', el('span', { class: 'amended-note' }, [t('amended')]));
  const children = [facts];
  if (record.description) children.push(el('p', { class: 'description' }, [record.description]));
  if (record.note) children.push(el('p', { class: 'note' }, [record.note]));
  const proof = el('span', { class: 'proof' }, [t('verifying')]);
  const links = el('p', {}, [el('a', { href: D.pages + page + '/#e' + record.seq }, [t('view') + ' (#' + record.seq + ')']), ' · ', proof]);
  children.push(links);
  const item = el('li', { class: 'donation', 'data-seq': String(record.seq) }, children);
  list.append(item);
  return { item, proof, links, record };
}

// ---- proofs ----------------------------------------------------------------
// The first AUTO_PROOFS results of the first page are proven at once; each
// other one on request. The first is proven alone: the others then know the
// mean line length and whether the host answers ranges.
const AUTO_PROOFS = 5;
function verifyAll(rows, mine, auto) {
  rows.slice(auto).forEach((row) => {
    const button = el('button', { type: 'button', class: 'prove' }, [t('prove')]);
    row.proof.textContent = '';
    row.proof.append(button);
    button.addEventListener('click', () => {
      row.proof.textContent = t('verifying');
      verifyRow(row, mine);
    });
  });
  const now = rows.slice(0, auto);
  if (!now.length) return Promise.resolve();
  return verifyRow(now[0], mine).then(() => Promise.all(now.slice(1).map((row) => verifyRow(row, mine))));
}
async function verifyRow(row, mine) {
  if (mine !== generation) return;
  try {
    if (!window.crypto || !crypto.subtle) throw new Error('WebCrypto is not available');
    const receipt = await prover.prove(row.record);
    row.item.dataset.proof = 'ok';
    row.proof.textContent = '✓ ' + t('verified');
    const url = URL.createObjectURL(new Blob([receipt], { type: 'text/plain' }));
    row.links.append(' · ', el('a', { href: url, download: 'bien-nhan-' + row.record.seq + '.txt', class: 'receipt' }, [t('receipt')]));
  } catch (error) {
    row.item.dataset.proof = 'fail';
    row.proof.textContent = '✗ ' + t('failed') + ': ' + error.message;
  }
}

// Keeps the newest verified checkpoint and warns when the site shows one
// that does not extend it (checked with a consistency proof from the tiles).
async function remember(cp) {
  const warning = document.getElementById('checkpoint-warning');
  const key = 'minhbach.checkpoint.' + cp.origin;
  let stored = null;
  try { stored = JSON.parse(localStorage.getItem(key) || 'null'); } catch (e) { stored = null; }
  if (stored && typeof stored.size === 'number' && !await prover.extendsStored(stored, cp)) {
    warning.textContent = t('warning', { old: stored.size, new: cp.size });
    warning.hidden = false;
    return;
  }
  try { localStorage.setItem(key, JSON.stringify({ size: cp.size, root: b64(cp.root) })); } catch (e) { /* private mode */ }
}
let remembered = null;
function checkpoint() {
  return prover.checkpoint().then((cp) => {
    if (!remembered) remembered = remember(cp).catch(() => { remembered = null; });
    return remembered.then(() => cp);
  });
}

// ---- a query ---------------------------------------------------------------
let generation = 0;
function run(fields) {
  const mine = ++generation;
  const counted = newQuery();
  const statusLine = document.getElementById('lookup-status');
  const list = document.getElementById('results');
  const moreBox = document.getElementById('results-more');
  list.textContent = '';
  moreBox.textContent = '';
  for (const name of ['bytes', 'countBytes', 'apartBytes', 'proofBytes', 'count', 'scope', 'floor']) delete list.dataset[name];
  statusLine.textContent = t('searching');
  const q = parseFields(fields);
  // The checkpoint is checked alongside (the proofs need it).
  checkpoint().catch(() => { /* reported by the proofs */ });
  return ix.open().then((m) => search(ix, q, PAGE, { prefixBudget: Number(D.prefixBudget) || undefined }).then(async (found) => {
    if (mine !== generation) return;
    if (!found) { statusLine.textContent = t('empty'); return; }
    let cursor = found;
    let shown = 0;
    let count = null;
    const status = () => {
      if (count === null) statusLine.textContent = shown ? t('shown', { shown }) + ' ' + t('counting') : t('searching');
      else if (count === 0) statusLine.textContent = t('none');
      else {
        const what = { phrase: 'foundPhrase', newest: 'foundNewest', all: 'found' }[cursor.scope];
        statusLine.textContent = t(what, { n: count, m: m.donations - cursor.floor }) + (shown < count ? ' ' + t('shown', { shown }) : '');
      }
    };
    const addPage = async () => {
      const indices = await cursor.slice(shown, shown + PAGE);
      const records = await ix.records(indices);
      if (mine !== generation) return [];
      const rows = records.map((record) => show(list, record));
      shown += rows.length;
      return rows;
    };
    const counts = () => {
      list.dataset.count = String(count);
      list.dataset.scope = cursor.scope;
      list.dataset.floor = String(cursor.floor);
    };
    let firstShown = false;
    const first = await addPage();
    if (mine !== generation) return;
    list.dataset.bytes = String(counted.search);
    counted.phase = 'count';
    firstShown = true;
    status();
    // The count after the first page: its bytes never delay the results.
    const counting = cursor.count().then((n) => {
      if (mine !== generation) return;
      count = n;
      counts();
      list.dataset.countBytes = String(counted.search + counted.count);
      // Never a final status before the first page is in the list.
      if (firstShown) { status(); offerMore(); }
    });
    counting.catch(() => { /* reported below */ });
    // The next page, or, once every phrase match is shown, the transfers
    // holding the words apart (their count needs every word's postings:
    // asked for, never fetched ahead).
    function offerMore() {
      moreBox.textContent = '';
      if (count === null) return;
      const apart = shown >= count && cursor.apart;
      if (shown >= count && !apart) return;
      const label = apart ? t('apartButton') : t('moreButton', { n: Math.min(PAGE, count - shown) });
      const button = el('button', { type: 'button', class: apart ? 'more apart' : 'more' }, [label]);
      moreBox.append(button);
      button.addEventListener('click', async () => {
        button.disabled = true;
        counted.phase = apart ? 'apart' : 'more';
        try {
          if (apart) {
            cursor = await cursor.apart();
            count = null;
            status();
            count = await cursor.count();
            if (mine !== generation) return;
            counts();
            list.dataset.apartBytes = String(counted.apart);
          }
          const rows = await addPage();
          if (mine !== generation) return;
          status();
          offerMore();
          // Proven on request, each by its own button.
          verifyAll(rows, mine, 0);
          if (rows.length) rows[0].item.querySelector('a').focus();
        } catch (error) {
          statusLine.textContent = t('error') + ' (' + error.message + ')';
        }
      });
    }
    // The proofs start once the first page is shown (they never hold the
    // connection the results need), alongside the count.
    const proving = verifyAll(first, mine, AUTO_PROOFS);
    await Promise.all([counting.catch(() => {}), proving]);
    if (mine === generation) list.dataset.proofBytes = String(counted.proof);
    await counting;
  })).catch((error) => {
    if (mine !== generation) return; // aborted by a newer query
    statusLine.textContent = error.version !== undefined
      ? t('version', { index: error.version, page: FORMAT_VERSION })
      : t('error') + ' (' + error.message + ')';
  });
}

// The query box and the separate fields, as the form holds them (and the
// address keeps them, so a search can be shared).
const FIELDS = ['q', 'name', 'amount', 'from', 'to', 'code'];
function formFields() {
  const fields = {};
  for (const name of FIELDS) if (form.elements[name] && form.elements[name].value.trim()) fields[name] = form.elements[name].value.trim();
  return fields;
}

if (form && window.fetch) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const fields = formFields();
    if (history.replaceState) history.replaceState(null, '', '?' + new URLSearchParams(fields));
    run(fields);
  });
  // Fetched ahead while the visitor types (a few hundred bytes, counted in
  // the first query): the manifest every search starts with, and the signed
  // checkpoint and keys every proof starts with, checked already.
  ix.open().catch(() => { /* reported by the search */ });
  if (window.crypto && crypto.subtle) checkpoint().catch(() => { /* reported by the proofs */ });
  const initial = new URLSearchParams(location.search);
  const given = FIELDS.filter((name) => initial.get(name) && form.elements[name]);
  for (const name of given) form.elements[name].value = initial.get(name);
  if (given.some((name) => name !== 'q')) form.querySelector('details.lookup-fields').open = true;
  if (given.length) run(formFields());
}
