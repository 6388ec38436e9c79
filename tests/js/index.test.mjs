// The page's reading of the index format (lookup/index.js) against the
// vectors the Rust side writes, and its search over a small index built
// here the way lookup.rs builds one.
//
//   node --test tests/js/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeChunk, openIndex, parseDictionary, parseQuery, search } from '../../themes/default/static/lookup/index.js';

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

// A tiny index in the format lookup.rs writes: 6 donations.
function tinyIndex() {
  const files = {
    'manifest.json': JSON.stringify({ version: 3, donations: 6, page_size: 50, chunk: 4096, records: 16, inline: 16, code_bits: 0, funds: [['f', 'Quỹ', 1, []]] }),
    // 0: NGUYEN VAN AN; 1: NGUYEN THI AN ... VAN; 2: NGUYEN VAN AN; 3: TRAN; 4: NGUYEN VAN AN; 5: AN NGUYEN VAN
    'd/wng': 'wnguyen\t5\t5\t0,1,1,2,1\n',
    'd/wva': 'wvan\t5\t5\t0,1,1,2,1\n',
    'd/wan': 'wan\t5\t5\t0,1,1,2,1\n',
    'd/bng.v': 'bnguyen.van\t4\t5\t0,2,2,1\n',
    'd/bva.a': 'bvan.an\t3\t4\t0,2,2\n',
    'd/a6-50': 'a500000\t3\t4\t1,1,2\n',
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

test('adjacent words rank first, then the others, newest first, with the exact count', async () => {
  const ix = tinyIndex();
  await ix.open();
  const cursor = await search(ix, parseQuery('nguyen van an'), 2);
  assert.equal(await cursor.count(), 5);
  assert.deepEqual(await cursor.slice(0, 2), [4, 2]);
  assert.deepEqual(await cursor.slice(2, 4), [0, 5]);
  assert.deepEqual(await cursor.slice(4, 6), [1]);
  const narrowed = await search(ix, parseQuery('nguyen van an 500k'), 10);
  assert.equal(await narrowed.count(), 3);
  assert.deepEqual(await narrowed.slice(0, 10), [4, 2, 1]);
  const phrased = await search(ix, parseQuery('nguyen van an'), 10);
  assert.deepEqual(await phrased.slice(0, 10), [4, 2, 0, 5, 1]);
  assert.equal(await phrased.count(), 5);
  const single = await search(ix, parseQuery('NGUYỄN'), 2);
  assert.equal(await single.count(), 5);
  assert.deepEqual(await single.slice(0, 2), [5, 4]);
  assert.deepEqual(await single.slice(4, 6), [0]);
  const records = await ix.records([4]);
  assert.equal(records[0].seq, 14);
  assert.equal(records[0].description, 'description 4');
});

test('an index of another format version is refused, saying so', async () => {
  const ix = openIndex(async () => JSON.stringify({ version: 2 }));
  await assert.rejects(ix.open(), (error) => error.version === 2);
});
