// Broken-off downloads: retried within the call with a Range request, or left as blobs/<etag>.incomplete
// and continued by the next call.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import { DownloadError, hubDownload, type DownloadEvent } from '../../src/io/hub/index.js';
import { gitBlobSha1, MockHub } from '../helpers/mock-hub.js';
import { makeTempDir, setHubEnv } from '../helpers/temp.js';

const C1 = '1'.repeat(40);
const DATA = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31 + (i >> 8)) % 256));
const ETAG = gitBlobSha1(DATA);

let hub: MockHub;
let cache: { dir: string; remove: () => void };
let restoreEnv: () => void;
let opts: { cacheDir: string; endpoint: string };

before(async () => {
  restoreEnv = setHubEnv();
  hub = await MockHub.start({ 'org/big': { refs: { main: C1 }, commits: { [C1]: { 'weights.bin': DATA } } } });
});

after(async () => {
  await hub.close();
  restoreEnv();
});

beforeEach(() => {
  cache = makeTempDir();
  opts = { cacheDir: cache.dir, endpoint: hub.url };
  hub.resetRequests();
  hub.interruptions.length = 0;
});

afterEach(() => cache.remove());

const blobsDir = (): string => join(cache.dir, 'models--org--big', 'blobs');
const makeBlobs = (): string => {
  mkdirSync(blobsDir(), { recursive: true });
  return blobsDir();
};
const gets = (): (string | undefined)[] => hub.requests.filter((r) => r.method === 'GET').map((r) => r.headers.range);
/** Start offsets of the GETs (0 without Range). */
const starts = (): number[] => gets().map((r) => (r === undefined ? 0 : Number(/^bytes=(\d+)-$/.exec(r)![1])));

test('a transfer cut off mid-file is resumed with a Range request in the same call', async () => {
  hub.interruptions.push(70_000);
  const events: DownloadEvent[] = [];
  const path = await hubDownload('org/big', 'weights.bin', { ...opts, onProgress: (e) => events.push(e) });
  assert.deepEqual(readFileSync(path), DATA);
  const [first, resumed] = starts();
  assert.equal(starts().length, 2);
  assert.equal(first, 0);
  assert.ok(resumed! > 0 && resumed! <= 70_000, `resumed from ${resumed}`);
  const retry = events.find((e) => e.type === 'retry');
  assert.ok(retry && retry.type === 'retry' && retry.loaded === resumed, JSON.stringify(retry));
  assert.deepEqual(readdirSync(blobsDir()), [ETAG]);
});

test('with no retries left the partial stays as <etag>.incomplete and the next call continues it', async () => {
  hub.interruptions.push(50_000);
  await assert.rejects(hubDownload('org/big', 'weights.bin', { ...opts, maxRetries: 0 }), (e: unknown) => {
    assert.ok(e instanceof DownloadError);
    assert.match(e.message, /'weights\.bin' of repo 'org\/big'.*broke off after \d+ bytes/);
    return true;
  });
  const kept = statSync(join(blobsDir(), `${ETAG}.incomplete`)).size;
  assert.ok(kept > 0 && kept <= 50_000, `kept ${kept} bytes`);
  assert.equal(existsSync(join(blobsDir(), ETAG)), false);

  hub.resetRequests();
  const events: DownloadEvent[] = [];
  const path = await hubDownload('org/big', 'weights.bin', { ...opts, onProgress: (e) => events.push(e) });
  assert.deepEqual(gets(), [`bytes=${kept}-`]);
  assert.deepEqual(events[0], { type: 'start', file: 'weights.bin', total: DATA.length, resumedFrom: kept });
  assert.deepEqual(readFileSync(path), DATA);
  assert.deepEqual(readdirSync(blobsDir()), [ETAG]);
});

test('repeated cut-offs keep resuming as long as bytes arrive', async () => {
  hub.interruptions.push(30_000, 30_000, 30_000, 30_000);
  const path = await hubDownload('org/big', 'weights.bin', { ...opts, maxRetries: 1 });
  const s = starts();
  assert.equal(s.length, 5);
  s.slice(1).forEach((start, i) => assert.ok(start > s[i]! && start <= s[i]! + 30_000, `GET ${i + 1} starts at ${start}`));
  assert.deepEqual(readFileSync(path), DATA);
});

test('a partial left by a process that has exited is taken over', async () => {
  writeFileSync(join(makeBlobs(), `${ETAG}.999999999.0123abcd.incomplete`), DATA.subarray(0, 12_345));
  const path = await hubDownload('org/big', 'weights.bin', opts);
  assert.deepEqual(gets(), ['bytes=12345-']);
  assert.deepEqual(readFileSync(path), DATA);
  assert.deepEqual(readdirSync(blobsDir()), [ETAG]);
});

test('a partial longer than the file is discarded and downloaded again', async () => {
  writeFileSync(join(makeBlobs(), `${ETAG}.incomplete`), Buffer.concat([DATA, Buffer.from('junk')]));
  const path = await hubDownload('org/big', 'weights.bin', opts);
  assert.deepEqual(gets(), [`bytes=${DATA.length + 4}-`, undefined]);
  assert.deepEqual(readFileSync(path), DATA);
});
