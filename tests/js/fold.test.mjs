// The page's folding, words, codes and term spelling against the vectors
// the Rust side writes (`site::lookup::vectors`, kept current by
// `cargo test --lib site::lookup`): the two implementations cannot drift.
//
//   node --test tests/js/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as fold from '../../themes/default/static/lookup/fold.js';

const vectors = JSON.parse(readFileSync(new URL('../data/vectors/lookup.json', import.meta.url)));

test('the page reads the index format the build writes', () => {
  assert.equal(fold.FORMAT_VERSION, vectors.format_version);
  assert.equal(fold.CODE_MIN, vectors.code_min);
  assert.equal(fold.TERM_MAX, vectors.term_max);
});

test('folding equals vn::fold', () => {
  for (const v of vectors.folding) assert.equal(fold.fold(v.text), v.fold, JSON.stringify(v.text));
});

test('words and codes equal site::lookup::tokens', () => {
  for (const v of vectors.folding) assert.deepEqual(fold.tokens(v.text), v.tokens, JSON.stringify(v.text));
});

test('terms are spelled and sharded as the index writes them', () => {
  for (const v of vectors.escaped) assert.equal(fold.escape(v.word), v.escaped, v.word);
  for (const v of vectors.shards) assert.equal(fold.dictionaryShard(v.term, v.bits), v.shard, `${v.term} ${v.bits}`);
  for (const [text, hash] of vectors.fnv1a) assert.equal(fold.fnv1a(text), hash, text);
  for (const [reference, folded] of vectors.references) assert.equal(fold.foldReference(reference), folded);
});

test('a name typed with diacritics folds to the unaccented description words', () => {
  const typed = fold.tokens('Nguyễn Văn Ấn');
  const described = fold.tokens('CT nhanh 247 den: NGUYEN VAN AN chuyen tien ung ho');
  assert.deepEqual(typed.runs[0], ['nguyen', 'van', 'an']);
  assert.deepEqual(described.runs[1].slice(1, 4), ['nguyen', 'van', 'an']);
});
