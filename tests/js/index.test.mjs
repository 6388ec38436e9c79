// The page's reading of the index format (lookup/index.js) against the
// vectors the Rust side writes, and its search over a small index built
// here the way lookup.rs builds one.
//
//   node --test tests/js/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { adjacencyKeys, decodeChunk, openIndex, parseDictionary, parseFields, parseQuery, search } from '../../themes/default/static/lookup/index.js';

const vectors = JSON.parse(readFileSync(new URL('../data/vectors/lookup.json', import.meta.url)));

test('postings chunks decode in each encoding', () => {
  const kinds = new Set();
  for (const v of vectors.chunks) {
    kinds.add(v.bytes[0]);
    assert.deepEqual(decodeChunk(Uint8Array.from(v.bytes)), v.postings);
  }
  assert.deepEqual([...kinds].sort(), [0, 1, 2]);
});

test('dictionary lines give counts, inline postings and chunk starts', () => {
  const text = `wan\t3\t40\t${vectors.deltas.text}\nwvan\t8000\t70000\t\t0,1z\n`;
  const terms = parseDictionary(text, 4096);
  assert.deepEqual(terms.get('wan').loaded.get(0), vectors.deltas.values);
  assert.equal(terms.get("wvan").chunks, 2);
  assert.deepEqual(terms.get('wvan').starts, [0, 71]);
});

test('a query splits into words in order, codes, amount and day', () => {
  const q = parseQuery('Nguyễn Văn An 500.000 15/09/2024 MBVCB.7012345678.123456');
  assert.deepEqual(q.runs, [['nguyen', 'van', 'an'], ['mbvcb']]);
  assert.equal(q.amount, 500000);
  assert.equal(q.from.toISOString().slice(0, 10), '2024-09-15');
  assert.deepEqual(q.codes, ['7012345678', 'mbvcb.7012345678', '123456', 'mbvcb.7012345678.123456']);
  assert.equal(parseQuery('123456').digits, '123456');
});

test('separate fields add to the query box', () => {
  const q = parseFields({ q: 'ung ho', name: 'Nguyễn Văn An', amount: '500.000', from: '2024-09-16', to: '2024-09-15', code: 'FT24256123456789' });
  assert.deepEqual(q.runs, [['ung', 'ho'], ['nguyen', 'van', 'an']]);
  assert.equal(q.amount, 500000);
  assert.equal(q.from.toISOString().slice(0, 10), '2024-09-15');
  assert.equal(q.to.toISOString().slice(0, 10), '2024-09-16');
  assert.deepEqual(q.codes, ['ft24256123456789']);
  const day = parseFields({ amount: '500k', to: '15/09/2024', code: 'FT 2525 abc' });
  assert.deepEqual(day.runs, []);
  assert.equal(day.amount, 500000);
  assert.equal(day.from.getTime(), day.to.getTime());
  assert.deepEqual(day.codes, ['ft2525abc']);
  assert.equal(parseFields({ amount: '200000' }).amount, 200000);
});

// A tiny index in the format lookup.rs writes: 6 donations.
function tinyIndex() {
  const files = {
    'manifest.json': JSON.stringify({ version: 4, donations: 6, page_size: 50, chunk: 4096, records: 16, inline: 16, code_bits: 0, funds: [['f', 'Quỹ', 1, []]] }),
    // 0: NGUYEN VAN AN; 1: NGUYEN THI AN ... VAN; 2: NGUYEN VAN AN; 3: TRAN; 4: NGUYEN VAN AN; 5: AN NGUYEN VAN
    'd/wng': 'wnguyen\t5\t5\t0,1,1,2,1\n',
    'd/wva': 'wvan\t5\t5\t0,1,1,2,1\n',
    'd/wan': 'wan\t5\t5\t0,1,1,2,1\n',
    'd/bng.v': 'bnguyen.van\t4\t5\t0,2,2,1\n',
    'd/bva.a': 'bvan.an\t3\t4\t0,2,2\n',
    'd/tng.v.a': 'tnguyen.van.an\t3\t4\t0,2,2\n',
    'd/a6-50': 'a500000\t3\t4\t1,1,2\n',
    'd/x6-50-202409': 'x500000-20240915\t3\t4\t1,1,2\n',
  };
  let records = '';
  for (let i = 0; i < 6; i++) records += `${i + 10}\tX\t500000\t2024-09-15\t0\t\t\t\t\t\tdescription ${i}\t\n`;
  files['r/0'] = records;
  return openIndex(async (path, kind) => {
    const text = files[path];
    if (text === undefined) return null;
    return kind === 'text' ? text : new TextEncoder().encode(text);
  });
}

test('a name typed in order finds its phrase, counted from the dictionary; the words apart on request', async () => {
  const ix = tinyIndex();
  await ix.open();
  const cursor = await search(ix, parseQuery('nguyen van an'), 2);
  assert.equal(cursor.scope, 'phrase');
  assert.equal(await cursor.count(), 3);
  assert.deepEqual(await cursor.slice(0, 2), [4, 2]);
  assert.deepEqual(await cursor.slice(2, 4), [0]);
  // Every word anywhere: the phrase matches first, then the others.
  const apart = await cursor.apart();
  assert.equal(apart.scope, 'all');
  assert.equal(await apart.count(), 5);
  assert.deepEqual(await apart.slice(0, 3), [4, 2, 0]);
  assert.deepEqual(await apart.slice(3, 6), [5, 1]);
  const narrowed = await search(ix, parseQuery('nguyen van an 500k'), 10);
  assert.equal(narrowed.scope, 'phrase');
  assert.equal(await narrowed.count(), 2);
  assert.deepEqual(await narrowed.slice(0, 10), [4, 2]);
  const narrowedApart = await narrowed.apart();
  assert.equal(await narrowedApart.count(), 3);
  assert.deepEqual(await narrowedApart.slice(0, 10), [4, 2, 1]);
  // An amount on a day is one term.
  const onDay = await search(ix, parseQuery('nguyen van an 500k 15/09/2024'), 10);
  assert.deepEqual([onDay.scope, await onDay.count(), await onDay.slice(0, 10)], ['phrase', 2, [4, 2]]);
  const otherDay = await search(ix, parseQuery('nguyen van an 500k 16/09/2024'), 10);
  assert.equal(await otherDay.count(), 0);
  // Two words: their pair.
  const pair = await search(ix, parseQuery('Nguyễn Văn'), 10);
  assert.equal(pair.scope, 'phrase');
  assert.deepEqual(await pair.slice(0, 10), [5, 4, 2, 0]);
  assert.equal((await (await pair.apart()).count()), 5);
  const single = await search(ix, parseQuery('NGUYỄN'), 2);
  assert.equal(single.scope, 'all');
  assert.equal(await single.count(), 5);
  assert.deepEqual(await single.slice(0, 2), [5, 4]);
  assert.deepEqual(await single.slice(4, 6), [0]);
  const records = await ix.records([4]);
  assert.equal(records[0].seq, 14);
  assert.equal(records[0].description, 'description 4');
});

test('the query\'s adjacency terms: a pair for two words, each three for more', () => {
  assert.deepEqual(adjacencyKeys(['nguyen', 'van']), ['bnguyen.van']);
  assert.deepEqual(adjacencyKeys(['nguyen', 'duc', 'thi', 'thao']), ['tnguyen.duc.thi', 'tduc.thi.thao']);
  assert.deepEqual(adjacencyKeys(['an']), []);
});

// 10 donations, chunks of 2 postings: `nguyen` the even ones, `ngoc` the odd.
function prefixIndex() {
  const files = {
    'manifest.json': JSON.stringify({ version: 4, donations: 10, page_size: 50, chunk: 2, records: 16, inline: 0, code_bits: 0, funds: [['f', 'Quỹ', 1, []]] }),
    'd/wng': 'wnguyen\t5\t8\t\t0,4,4\nwngoc\t5\t9\t\t1,4,4\n',
    'p/wnguyen/0': Uint8Array.of(0, 0, 2), 'p/wnguyen/1': Uint8Array.of(0, 4, 2), 'p/wnguyen/2': Uint8Array.of(0, 8),
    'p/wngoc/0': Uint8Array.of(0, 1, 2), 'p/wngoc/1': Uint8Array.of(0, 5, 2), 'p/wngoc/2': Uint8Array.of(0, 9),
  };
  let records = '';
  for (let i = 0; i < 10; i++) records += `${i + 10}\tX\t500000\t2024-09-15\t0\t\t\t\t\t\tdescription ${i}\t\n`;
  files['r/0'] = records;
  const fetched = [];
  const ix = openIndex(async (path, kind) => {
    const file = files[path];
    if (file === undefined) return null;
    fetched.push(path);
    if (kind === 'text') return file;
    return typeof file === 'string' ? new TextEncoder().encode(file) : file;
  });
  return { ix, fetched };
}

test('a typed part of a word finds the words it begins, within a byte bound', async () => {
  const whole = prefixIndex();
  await whole.ix.open();
  const all = await search(whole.ix, parseQuery('ng'), 20);
  assert.equal(all.scope, 'all');
  assert.equal(await all.count(), 10);
  assert.deepEqual(await all.slice(0, 3), [9, 8, 7]);
  const bounded = prefixIndex();
  await bounded.ix.open();
  const newest = await search(bounded.ix, parseQuery('ng'), 20, { prefixBudget: 2 });
  assert.equal(newest.scope, 'newest');
  assert.equal(newest.floor, 9);
  assert.equal(await newest.count(), 1);
  assert.deepEqual(await newest.slice(0, 20), [9]);
  // Only the chunks from the floor on were fetched.
  assert.deepEqual(bounded.fetched.filter((path) => path.startsWith('p/')), ['p/wngoc/2']);
});

test('a term in runs (a day) is read from its dictionary line, without postings files', async () => {
  const values = vectors.runs.values;
  const starts = [values[0], values[64]].map((v, i, all) => (i ? v - all[i - 1] : v).toString(36)).join(',');
  const fetched = [];
  const files = {
    'manifest.json': JSON.stringify({ version: 4, donations: 5100, page_size: 50, chunk: 64, records: 16, inline: 16, code_bits: 0, funds: [] }),
    'd/d202409': `d20240915\t${values.length}\t${values[values.length - 1]}\t\t${starts}\t${vectors.runs.text}\n`,
  };
  const ix = openIndex(async (path) => { fetched.push(path); return files[path] ?? null; });
  await ix.open();
  const term = await ix.term('d20240915');
  await ix.load(term, 0);
  await ix.load(term, 1);
  assert.deepEqual([...term.loaded.get(0), ...term.loaded.get(1)], values);
  const day = await search(ix, parseQuery('15/09/2024'), 3);
  assert.equal(await day.count(), values.length);
  assert.deepEqual(await day.slice(0, 3), [5099, 5098, 5097]);
  assert.deepEqual(fetched, ['manifest.json', 'd/d202409']);
});

test('an index of another format version is refused, saying so', async () => {
  const ix = openIndex(async () => JSON.stringify({ version: 2 }));
  await assert.rejects(ix.open(), (error) => error.version === 2);
});
