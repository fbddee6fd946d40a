// Responses a Hub endpoint never sends (paths in ETag or X-Repo-Commit, bodies past their size or of no
// size, ranges answered out of place) and request arguments that collapse in a URL: each is refused
// with an error naming the file, or recovered from, and nothing lands outside or corrupt in the cache.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import { DownloadError, EntryNotFoundError, HubArgumentError, hubDownload, HubMetadataError } from '../../src/io/hub/index.js';
import { startLocalServer, type LocalServer } from '../helpers/local-server.js';
import { gitBlobSha1 } from '../helpers/mock-hub.js';
import { makeTempDir, setHubEnv } from '../helpers/temp.js';

const C1 = 'e'.repeat(40);
const DATA = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 13 + (i >> 7)) % 256));
const ETAG = gitBlobSha1(DATA);

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler;
let requests: { method: string; range: string | undefined }[];
let server: LocalServer;
let endpoint: string;
let cache: { dir: string; remove: () => void };
let restoreEnv: () => void;

before(async () => {
  restoreEnv = setHubEnv();
  server = await startLocalServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', range: req.headers.range });
    handler(req, res);
  });
  endpoint = server.url;
});

after(async () => {
  await server.close();
  restoreEnv();
});

beforeEach(() => {
  cache = makeTempDir();
  requests = [];
});

afterEach(() => cache.remove());

const opts = (): { cacheDir: string; endpoint: string } => ({ cacheDir: join(cache.dir, 'hub'), endpoint });
const repoDir = (): string => join(cache.dir, 'hub', 'models--org--m');
const HEADERS = { 'x-repo-commit': C1, etag: `"${ETAG}"` };

/** The file as the Hub serves it, honouring `Range: bytes=<n>-`; `headers` override the metadata. */
function serveFile(req: IncomingMessage, res: ServerResponse, headers: Record<string, string> = {}): void {
  const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
  const body = DATA.subarray(start);
  res.writeHead(start > 0 ? 206 : 200, {
    ...HEADERS,
    'content-length': String(body.byteLength),
    ...(start > 0 && { 'content-range': `bytes ${start}-${DATA.length - 1}/${DATA.length}` }),
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Every regular file and link under `dir`, relative to it. */
function listTree(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listTree(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

test('an ETag that is a path is refused before anything is written, naming the URL', async () => {
  for (const header of ['etag', 'x-linked-etag']) {
    handler = (req, res) => serveFile(req, res, { [header]: '"../../../escaped"' });
    await assert.rejects(hubDownload('org/m', 'f.bin', opts()), (e: unknown) => {
      assert.ok(e instanceof HubMetadataError, String(e));
      assert.match(e.message, /^'f\.bin' of repo 'org\/m' \(revision 'main'\) could not be resolved: the response from http:\/\/127\.0\.0\.1:\d+\/org\/m\/resolve\/main\/f\.bin has ETag "\.\.\/\.\.\/\.\.\/escaped"/);
      return true;
    });
    assert.deepEqual(listTree(cache.dir), [], header);
    assert.equal(requests.filter((r) => r.method === 'GET').length, 0);
  }
});

test('an X-Repo-Commit that is not a commit hash is refused; nothing is linked or recorded', async () => {
  for (const commit of ['../../../escaped', 'main', C1.toUpperCase()]) {
    handler = (req, res) => serveFile(req, res, { 'x-repo-commit': commit });
    await assert.rejects(hubDownload('org/m', 'f.bin', opts()), (e: unknown) => {
      assert.ok(e instanceof HubMetadataError, String(e));
      assert.match(e.message, /'f\.bin' of repo 'org\/m'.* has X-Repo-Commit ".*", not a 40-character lowercase hex commit hash/);
      return true;
    });
    assert.deepEqual(listTree(cache.dir), [], commit);
  }
});

test('a 404 whose X-Repo-Commit is a path records no absence marker', async () => {
  handler = (_req, res) => {
    res.writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-repo-commit': '../../../escaped', 'content-length': '0' });
    res.end();
  };
  await assert.rejects(hubDownload('org/m', 'f.bin', opts()), (e: unknown) => {
    assert.ok(e instanceof EntryNotFoundError, String(e));
    assert.equal(e.commit, null);
    return true;
  });
  assert.deepEqual(listTree(cache.dir), []);
});

test('a body that runs past the announced size is cut off at once and discarded', async () => {
  let sent = 0;
  handler = (req, res) => {
    if (req.method === 'HEAD') return serveFile(req, res);
    // No Content-Length on the GET: the body streams on (up to 64 MiB) until the client hangs up.
    res.writeHead(200, HEADERS);
    const chunk = Buffer.alloc(64 * 1024, 7);
    const pump = (): void => {
      while (sent < 64 * 2 ** 20 && !res.destroyed) {
        sent += chunk.byteLength;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  };
  await assert.rejects(hubDownload('org/m', 'f.bin', opts()), (e: unknown) => {
    assert.ok(e instanceof DownloadError, String(e));
    assert.match(e.message, /'f\.bin' of repo 'org\/m'.* but the file has 100000; the partial download was discarded/);
    return true;
  });
  assert.ok(sent < 16 * 2 ** 20, `the server got to send ${sent} bytes`);
  assert.deepEqual(listTree(join(repoDir(), 'blobs')), []);
});

test('a download whose size nobody announces is taken whole, as huggingface_hub takes it', async () => {
  handler = (req, res) => {
    res.writeHead(200, { ...HEADERS, 'transfer-encoding': 'chunked' });
    res.end(req.method === 'HEAD' ? undefined : DATA);
  };
  const path = await hubDownload('org/m', 'f.bin', opts());
  assert.deepEqual(readFileSync(path), DATA);
});

test('a range answered from another offset than the partial (or with no Content-Range) restarts the file', async () => {
  for (const wrong of [{ 'content-range': `bytes 5000-${DATA.length - 1}/${DATA.length}` }, {}]) {
    const c = makeTempDir();
    try {
      mkdirSync(join(c.dir, 'models--org--m', 'blobs'), { recursive: true });
      writeFileSync(join(c.dir, 'models--org--m', 'blobs', `${ETAG}.incomplete`), DATA.subarray(0, 40_000));
      let gets = 0;
      handler = (req, res) => {
        if (req.method === 'GET' && gets++ === 0) {
          const body = DATA.subarray(5000);
          res.writeHead(206, { ...HEADERS, 'content-length': String(body.byteLength), ...wrong });
          return void res.end(body);
        }
        serveFile(req, res);
      };
      const path = await hubDownload('org/m', 'f.bin', { cacheDir: c.dir, endpoint });
      assert.deepEqual(readFileSync(path), DATA, JSON.stringify(wrong));
      assert.deepEqual(
        requests.filter((r) => r.method === 'GET').map((r) => r.range),
        ['bytes=40000-', undefined],
      );
      requests = [];
    } finally {
      c.remove();
    }
  }
});

test('a 206 to a request without Range is not written at offset 0', async () => {
  let gets = 0;
  handler = (req, res) => {
    if (req.method === 'GET' && gets++ === 0) {
      const body = DATA.subarray(5000);
      res.writeHead(206, { ...HEADERS, 'content-length': String(body.byteLength), 'content-range': `bytes 5000-${DATA.length - 1}/${DATA.length}` });
      return void res.end(body);
    }
    serveFile(req, res);
  };
  const path = await hubDownload('org/m', 'f.bin', opts());
  assert.deepEqual(readFileSync(path), DATA);
});

test("filenames and revisions with '.' segments or NUL → HubArgumentError before any request", async () => {
  handler = serveFile;
  for (const [file, revision] of [
    ['.', 'main'],
    ['sub/./f.bin', 'main'],
    ['./f.bin', 'main'],
    ['f\0.bin', 'main'],
    ['f.bin', '.'],
    ['f.bin', 'refs/./main'],
    ['f.bin', 'ma\0in'],
  ] as const) {
    await assert.rejects(hubDownload('org/m', file, { ...opts(), revision }), HubArgumentError, JSON.stringify([file, revision]));
  }
  assert.equal(requests.length, 0);
  assert.deepEqual(listTree(cache.dir), []);
});
