// 429 and 5xx answers to the metadata (HEAD) request and to the blob GET: retried with exponential
// backoff or the server's Retry-After (capped), a bounded number of times, with `retry` events. The
// waits are recorded instead of slept, so no test waits for seconds.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import { EntryNotFoundError, HubAuthError, hubDownload, HubHttpError, type DownloadEvent } from '../../src/io/hub/index.js';
import { retryTiming } from '../../src/io/hub/retry.js';
import { startLocalServer, type LocalServer } from '../helpers/local-server.js';
import { gitBlobSha1 } from '../helpers/mock-hub.js';
import { makeTempDir, setHubEnv } from '../helpers/temp.js';

const C1 = 'f'.repeat(40);
const DATA = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 17 + (i >> 5)) % 256));
const HEADERS = { 'x-repo-commit': C1, etag: `"${gitBlobSha1(DATA)}"` };
/** Waits of the default schedule when maxRetries is 5: 1 s doubling, at most 8 s. */
const BACKOFF = [1000, 2000, 4000, 8000, 8000];

type Method = 'HEAD' | 'GET';
/** Answers (status, headers) given, in order, to the next requests of each method before the file is served. */
let refusals: Record<Method, { status: number; headers?: Record<string, string> }[]>;
let requests: Method[];
let waits: number[];
let server: LocalServer;
let endpoint: string;
let cache: { dir: string; remove: () => void };
let restoreEnv: () => void;
const defaultTiming = { ...retryTiming };

before(async () => {
  restoreEnv = setHubEnv();
  server = await startLocalServer((req, res) => {
    const method = req.method as Method;
    requests.push(method);
    const refusal = refusals[method].shift();
    if (refusal === undefined) return serveFile(req, res);
    res.writeHead(refusal.status, { 'content-length': '0', ...refusal.headers });
    res.end();
  });
  endpoint = server.url;
});

after(async () => {
  await server.close();
  restoreEnv();
});

beforeEach(() => {
  cache = makeTempDir();
  refusals = { HEAD: [], GET: [] };
  requests = [];
  waits = [];
  retryTiming.sleep = async (ms) => void waits.push(ms);
});

afterEach(() => {
  Object.assign(retryTiming, defaultTiming);
  cache.remove();
});

function serveFile(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { ...HEADERS, 'content-length': String(DATA.byteLength) });
  res.end(req.method === 'HEAD' ? undefined : DATA);
}

const opts = (events: DownloadEvent[] = []) => ({ cacheDir: cache.dir, endpoint, onProgress: (e: DownloadEvent) => events.push(e) });
const refuse = (method: Method, count: number, status: number, headers?: Record<string, string>): void => {
  refusals[method] = Array.from({ length: count }, () => ({ status, ...(headers && { headers }) }));
};
const retries = (events: DownloadEvent[]): DownloadEvent[] => events.filter((e) => e.type === 'retry');

test('a GET answered 503 twice is retried after 1 s and 2 s and the file is downloaded', async () => {
  refuse('GET', 2, 503);
  const events: DownloadEvent[] = [];
  const path = await hubDownload('org/m', 'f.bin', opts(events));
  assert.deepEqual(readFileSync(path), DATA);
  assert.deepEqual(requests, ['HEAD', 'GET', 'GET', 'GET']);
  assert.deepEqual(waits, [1000, 2000]);
  assert.deepEqual(retries(events), [
    { type: 'retry', file: 'f.bin', loaded: 0, attempt: 1, reason: 'HTTP 503 Service Unavailable' },
    { type: 'retry', file: 'f.bin', loaded: 0, attempt: 2, reason: 'HTTP 503 Service Unavailable' },
  ]);
});

test('a HEAD answered 502 twice is retried the same way before the file is resolved', async () => {
  refuse('HEAD', 2, 502);
  const events: DownloadEvent[] = [];
  const path = await hubDownload('org/m', 'f.bin', opts(events));
  assert.deepEqual(readFileSync(path), DATA);
  assert.deepEqual(requests, ['HEAD', 'HEAD', 'HEAD', 'GET']);
  assert.deepEqual(waits, [1000, 2000]);
  assert.deepEqual(retries(events), [
    { type: 'retry', file: 'f.bin', loaded: 0, attempt: 1, reason: 'HTTP 502 Bad Gateway' },
    { type: 'retry', file: 'f.bin', loaded: 0, attempt: 2, reason: 'HTTP 502 Bad Gateway' },
  ]);
});

test('429 with Retry-After: 0 is retried at once, on the HEAD and on the GET', async () => {
  refuse('HEAD', 1, 429, { 'retry-after': '0' });
  refuse('GET', 1, 429, { 'retry-after': '0' });
  const path = await hubDownload('org/m', 'f.bin', opts());
  assert.deepEqual(readFileSync(path), DATA);
  assert.deepEqual(requests, ['HEAD', 'HEAD', 'GET', 'GET']);
  assert.deepEqual(waits, [0, 0]);
});

test('Retry-After is honoured in seconds and as an HTTP-date, and capped at 60 s', async () => {
  const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
  const inTwoHours = new Date(Date.now() + 7_200_000).toUTCString();
  refusals.GET = [
    { status: 429, headers: { 'retry-after': '3' } },
    { status: 503, headers: { 'retry-after': inTenSeconds } },
    { status: 503, headers: { 'retry-after': '3600' } },
    { status: 429, headers: { 'retry-after': inTwoHours } },
    { status: 503, headers: { 'retry-after': 'soon' } },
  ];
  await hubDownload('org/m', 'f.bin', opts());
  assert.equal(waits.length, 5);
  assert.equal(waits[0], 3000);
  // An HTTP-date has whole seconds, and time passes between the header's making and its reading.
  assert.ok(waits[1]! > 8000 && waits[1]! <= 10_000, `waited ${waits[1]} ms for a date 10 s ahead`);
  assert.deepEqual(waits.slice(2), [60_000, 60_000, 8000]);
});

test('a Retry-After past a lowered cap is cut to the cap in real time', async () => {
  Object.assign(retryTiming, { sleep: defaultTiming.sleep, retryAfterCapMs: 20 });
  refuse('HEAD', 1, 503, { 'retry-after': '3600' });
  refuse('GET', 1, 429, { 'retry-after': '3600' });
  const started = Date.now();
  const path = await hubDownload('org/m', 'f.bin', opts());
  assert.deepEqual(readFileSync(path), DATA);
  assert.deepEqual(requests, ['HEAD', 'HEAD', 'GET', 'GET']);
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});

/** Asserts a HubHttpError naming the file, the repo and HTTP 500. */
function isHttp500(e: unknown): boolean {
  assert.ok(e instanceof HubHttpError, String(e));
  assert.equal(e.status, 500);
  assert.match(e.message, /^'f\.bin' of repo 'org\/m' \(revision 'main'\) could not be fetched: HTTP 500 Internal Server Error/);
  return true;
}

test('a GET answered 500 every time gives up after maxRetries retries with the status', async () => {
  refuse('GET', 100, 500);
  const events: DownloadEvent[] = [];
  await assert.rejects(hubDownload('org/m', 'f.bin', opts(events)), isHttp500);
  assert.deepEqual(requests, ['HEAD', ...Array<Method>(6).fill('GET')]);
  assert.deepEqual(waits, BACKOFF);
  assert.deepEqual(retries(events).map((e) => e.type === 'retry' && e.attempt), [1, 2, 3, 4, 5]);

  requests = [];
  refuse('GET', 100, 500);
  await assert.rejects(hubDownload('org/m', 'f.bin', { ...opts(), maxRetries: 2 }), isHttp500);
  assert.deepEqual(requests, ['HEAD', 'GET', 'GET', 'GET']);
});

test('a HEAD answered 500 every time gives up with the status, or serves the cached copy', async () => {
  refuse('HEAD', 100, 500);
  await assert.rejects(hubDownload('org/m', 'f.bin', opts()), isHttp500);
  assert.deepEqual(requests, Array<Method>(6).fill('HEAD'));
  assert.deepEqual(waits, BACKOFF);

  refusals.HEAD = [];
  const cached = await hubDownload('org/m', 'f.bin', opts());
  requests = [];
  refuse('HEAD', 100, 500);
  assert.equal(await hubDownload('org/m', 'f.bin', { ...opts(), maxRetries: 1 }), cached);
  assert.deepEqual(requests, ['HEAD', 'HEAD']);
});

test('other 4xx answers are not retried, also when they follow a retried 503', async () => {
  for (const [status, cls] of [
    [404, EntryNotFoundError],
    [401, HubAuthError],
    [403, HubAuthError],
    [400, HubHttpError],
  ] as const) {
    for (const method of ['HEAD', 'GET'] as const) {
      requests = [];
      refusals = { HEAD: [], GET: [] };
      refusals[method] = [{ status: 503 }, { status }];
      await assert.rejects(hubDownload('org/m', 'f.bin', opts()), cls, `${method} ${status}`);
      assert.deepEqual(requests, method === 'HEAD' ? ['HEAD', 'HEAD'] : ['HEAD', 'GET', 'GET'], `${method} ${status}`);

      requests = [];
      refuse(method, 1, status);
      await assert.rejects(hubDownload('org/m', 'f.bin', opts()), cls, `${method} ${status}`);
      assert.deepEqual(requests, method === 'HEAD' ? ['HEAD'] : ['HEAD', 'GET'], `${method} ${status}`);
    }
  }
});
