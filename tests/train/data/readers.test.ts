// JSONL, CSV and plain-text readers: records with their line numbers, and errors naming file:line.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { collect, DataError, readCsv, readJsonl, readLines, readTextDocuments, type DataRecord } from '../../../src/index.js';
import { makeTempDir } from '../../helpers/temp.js';

let tmp: { dir: string; remove: () => void };
beforeEach(() => {
  tmp = makeTempDir();
});
afterEach(() => tmp.remove());

function file(name: string, content: string | Uint8Array): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, content);
  return path;
}

async function rejectsAt(records: AsyncIterable<unknown>, path: string, line: number, pattern: RegExp): Promise<void> {
  await assert.rejects(collect(records), (e: unknown) => {
    assert.ok(e instanceof DataError, String(e));
    assert.equal(e.file, path);
    assert.equal(e.line, line);
    assert.ok(e.message.startsWith(`${path}:${line}: `), e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

const lines = (recs: DataRecord[]) => recs.map((r) => r.line);

test('readLines: LF and CRLF, a last line without a newline, BOM, chunk boundaries', async () => {
  const long = 'x'.repeat(70_000);
  const path = file('a.txt', `\uFEFFone\r\ntwo\n${long}\nlast`);
  const got = await collect(readLines(path));
  assert.deepEqual(got.map((l) => [l.line, l.text.length > 10 ? l.text.length : l.text, l.eol]), [[1, 'one', '\r\n'], [2, 'two', '\n'], [3, 70_000, '\n'], [4, 'last', '']]);
  await rejectsAt(readLines(file('bad.txt', Uint8Array.from([0x61, 0x0a, 0x62, 0xff, 0x0a]))), join(tmp.dir, 'bad.txt'), 2, /invalid UTF-8/);
});

test('readLines: a line longer than maxLineBytes is an error naming it; a line over many chunks is joined whole', async () => {
  const path = file('long.txt', `short\n${'y'.repeat(200_000)}\r\n${'z'.repeat(100_000)}`);
  await rejectsAt(readLines(path, { maxLineBytes: 150_000 }), path, 2, /line longer than 150000 bytes/);
  await rejectsAt(readLines(file('tail.txt', `a\nb\n${'z'.repeat(100_000)}`), { maxLineBytes: 99_999 }), join(tmp.dir, 'tail.txt'), 3, /line longer than 99999 bytes/);
  assert.deepEqual((await collect(readLines(path, { maxLineBytes: 200_000 }))).map((l) => [l.text.length, l.eol]), [[5, '\n'], [200_000, '\r\n'], [100_000, '']]);
  // 1 MiB on one line spans 16 read chunks.
  const big = file('big.jsonl', `{"text":"${'w'.repeat(1 << 20)}"}\n{"text":"next"}\n`);
  assert.deepEqual((await collect(readJsonl(big))).map((r) => (r.data.text as string).length), [1 << 20, 4]);
});

test('readJsonl: objects with line numbers, blank lines skipped', async () => {
  const path = file('train.jsonl', '{"text": "a", "label": 1}\n\n  \n{"text": "b"}\n');
  const recs = await collect(readJsonl(path));
  assert.deepEqual(recs.map((r) => r.data), [{ text: 'a', label: 1 }, { text: 'b' }]);
  assert.deepEqual(lines(recs), [1, 4]);
  assert.equal(recs[1]!.file, path);
});

test('readJsonl errors: invalid JSON and non-objects name the line', async () => {
  const bad = file('train.jsonl', '{"a": 1}\n{"a": 2}\n{"a": \n');
  await rejectsAt(readJsonl(bad), bad, 3, /invalid JSON/);
  const arr = file('arr.jsonl', '{}\n[1, 2]\n');
  await rejectsAt(readJsonl(arr), arr, 2, /expected a JSON object, got an array/);
  const num = file('num.jsonl', '\n\n42\n');
  await rejectsAt(readJsonl(num), num, 3, /expected a JSON object, got number 42/);
});

test('readCsv: RFC 4180 quoting, doubled quotes, delimiters and line breaks inside quotes', async () => {
  const path = file('data.csv', 'text,label\r\nplain,ham\r\n"with, comma","sp""am"\r\n"two\r\nlines",x\r\n\r\n"",""\nlast,row');
  const recs = await collect(readCsv(path));
  assert.deepEqual(recs.map((r) => r.data), [
    { text: 'plain', label: 'ham' },
    { text: 'with, comma', label: 'sp"am' },
    { text: 'two\r\nlines', label: 'x' },
    { text: '', label: '' },
    { text: 'last', label: 'row' },
  ]);
  assert.deepEqual(lines(recs), [2, 3, 4, 7, 8]);
  const tsv = file('data.tsv', 'a\tb\n1\t"x\ty"\n');
  assert.deepEqual((await collect(readCsv(tsv, { delimiter: '\t' })))[0]!.data, { a: '1', b: 'x\ty' });
});

test('readCsv errors: field counts, stray quotes, unterminated quotes, bad headers', async () => {
  const count = file('count.csv', 'text,label\na,b\na,b,c\n');
  await rejectsAt(readCsv(count), count, 3, /expected 2 fields \(text, label\), got 3/);
  const stray = file('stray.csv', 'a,b\nx,y"z\n');
  await rejectsAt(readCsv(stray), stray, 2, /field 2: a quote inside an unquoted field/);
  const after = file('after.csv', 'a,b\n"x"y,z\n');
  await rejectsAt(readCsv(after), after, 2, /field 1: unexpected "y" after the closing quote/);
  const open = file('open.csv', 'a,b\n1,2\n"never\nclosed,3\n');
  await rejectsAt(readCsv(open), open, 3, /quoted field is never closed/);
  const multiline = file('multi.csv', 'a,b\n"x\ny",1,2\n');
  await rejectsAt(readCsv(multiline), multiline, 2, /expected 2 fields/);
  const dup = file('dup.csv', 'a,a\n1,2\n');
  await rejectsAt(readCsv(dup), dup, 1, /duplicate column "a"/);
  const empty = file('empty.csv', '');
  await rejectsAt(readCsv(empty), empty, 1, /expected a header row/);
  await assert.rejects(readCsv(empty, { delimiter: '"' }).next(), TypeError);
});

test('readCsv: an unbalanced quote is an error at its record once the record outgrows maxLineBytes', async () => {
  const path = file('unbalanced.csv', `text,label\nok,1\n"oops,2\n${'a,1\n'.repeat(10_000)}`);
  await rejectsAt(readCsv(path, { maxLineBytes: 1000 }), path, 3, /a quoted field runs on past 1000 bytes from this line \(an unbalanced quote\?\)/);
  await rejectsAt(readCsv(path), path, 3, /a quoted field is never closed/);
});

test('readTextDocuments: blank-line blocks with their first line, or whole files', async () => {
  const a = file('a.txt', '\nfirst doc\nstill first\n\n\n  \nsecond\n\nthird');
  const b = file('b.txt', 'whole\n\nfile');
  const blocks = await collect(readTextDocuments(a));
  assert.deepEqual(blocks.map((r) => [r.data.text, r.line]), [['first doc\nstill first', 2], ['second', 7], ['third', 9]]);
  const files = await collect(readTextDocuments([a, b], { split: 'file' }));
  assert.deepEqual(files.map((r) => [r.file, r.line]), [[a, 1], [b, 1]]);
  assert.equal(files[1]!.data.text, 'whole\n\nfile');
  await rejectsAt(readTextDocuments(file('bad.txt', Uint8Array.from([0x61, 0x0a, 0x0a, 0xc3]))), join(tmp.dir, 'bad.txt'), 3, /invalid UTF-8/);
});
