// Folding, words and codes, and how terms are spelled and sharded: the
// same rules as `vn::fold` and `site::lookup::tokens` in Rust, checked by
// `node --test tests/js/` against the vectors the Rust side writes
// (tests/data/vectors/lookup.json). Pure functions, no DOM.

/** The index format this page reads (`FORMAT_VERSION` in lookup.rs). */
export const FORMAT_VERSION = 4;
/** A part holding a digit is a code from this many characters (`CODE_MIN`). */
export const CODE_MIN = 6;
/** A word or code longer than this, spelled as in paths, is not indexed. */
export const TERM_MAX = 60;

const MARK = /\p{M}/gu;
const SPACE = /\p{White_Space}+/gu;
const ALNUM = /[\p{Alphabetic}\p{N}]/u;
const NUMERIC = /\p{N}/u;

/**
 * `vn::fold`: canonical decomposition, marks removed, whitespace runs as
 * one space (none at the ends), each character lower-cased alone, đ → d.
 */
export function fold(text) {
  const stripped = String(text).normalize('NFD').replace(MARK, '').replace(SPACE, ' ').trim();
  let out = '';
  for (const c of stripped) out += c === 'đ' || c === 'Đ' ? 'd' : c.toLowerCase();
  return out;
}

function isAlnum(c) { return ALNUM.test(c); }

/** The runs of letters and digits of a piece: [start, end) in UTF-16 units. */
function alphanumericRuns(piece) {
  const runs = [];
  let start = -1, at = 0;
  for (const c of piece) {
    const alnum = isAlnum(c);
    if (alnum && start < 0) start = at;
    else if (!alnum && start >= 0) { runs.push([start, at]); start = -1; }
    at += c.length;
  }
  if (start >= 0) runs.push([start, piece.length]);
  return runs;
}

/**
 * `site::lookup::tokens`: the words of a text in runs of adjacent words,
 * and its code-like tokens. See lookup.rs for the rules.
 */
export function tokens(text) {
  const out = { runs: [], codes: [] };
  let run = [];
  const endRun = () => { if (run.length) { out.runs.push(run); run = []; } };
  const pushCode = (code) => { if (!out.codes.includes(code)) out.codes.push(code); };
  for (const piece of fold(text).split(' ')) {
    const parts = alphanumericRuns(piece);
    let codeSeen = false;
    parts.forEach(([begin, end], position) => {
      const part = piece.slice(begin, end);
      const chars = Array.from(part);
      const hasDigit = chars.some((c) => NUMERIC.test(c));
      const hasLetter = chars.some((c) => !NUMERIC.test(c));
      if (escape(part).length > TERM_MAX) {
        endRun();
      } else if (hasDigit && chars.length >= CODE_MIN) {
        pushCode(part);
        codeSeen = true;
        endRun();
      } else if (!hasDigit || hasLetter) {
        run.push(part);
      } else {
        endRun();
      }
      const chainEnds = position + 1 === parts.length || piece.startsWith('.', end);
      if (position >= 1 && codeSeen && chainEnds) {
        const prefix = piece.slice(parts[0][0], end);
        if (prefix.includes('.') && escape(prefix).length <= TERM_MAX) pushCode(prefix);
      }
    });
  }
  endRun();
  return out;
}

/** A word in a path: a–z and 0–9 as they are, anything else `_<hex>_`. */
export function escape(word) {
  let out = '';
  for (const c of word) out += /^[a-z0-9]$/.test(c) ? c : '_' + c.codePointAt(0).toString(16) + '_';
  return out;
}

/** The first `count` characters of an escaped word (an escape is one). */
export function escapedPrefix(escaped, count) {
  let end = 0;
  for (let i = 0; i < count && end < escaped.length; i++) {
    if (escaped[end] === '_') {
      const close = escaped.indexOf('_', end + 1);
      end = close < 0 ? escaped.length : close + 1;
    } else {
      end += 1;
    }
  }
  return escaped.slice(0, end);
}

/** FNV-1a, 32 bits, of the UTF-8 bytes of a text. */
export function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** The dictionary shard a term is listed in (`dictionary_shard`). */
export function dictionaryShard(term, codeBits) {
  const kind = term[0], rest = term.slice(1);
  switch (kind) {
    case 'w': return 'w' + escapedPrefix(rest, 2);
    case 'b': {
      const dot = rest.indexOf('.');
      const first = dot < 0 ? rest : rest.slice(0, dot), second = dot < 0 ? '' : rest.slice(dot + 1);
      return 'b' + escapedPrefix(first, 2) + '.' + escapedPrefix(second, 1);
    }
    case 't': {
      const [first, second, third] = rest.split('.');
      return 't' + escapedPrefix(first, 2) + '.' + escapedPrefix(second || '', 1) + '.' + escapedPrefix(third || '', 1);
    }
    case 'c': return 'c' + (codeBits === 0 ? 0 : fnv1a(rest) >>> (32 - codeBits));
    case 'a': return 'a' + rest.length + '-' + rest.slice(0, 2);
    case 'x': {
      const [amount, day] = rest.split('-');
      return 'x' + amount.length + '-' + amount.slice(0, 2) + '-' + (day || '').slice(0, 6);
    }
    default: return 'd' + rest.slice(0, 6);
  }
}

/** Bank references compare case-insensitively, without spaces. */
export function foldReference(reference) {
  return fold(reference).replace(/ /g, '');
}
