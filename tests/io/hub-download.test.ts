// hubDownload / snapshotFiles against a local mock Hub: cache layout, cache hits, revisions, LFS.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import { downloadFile, hubDownload, snapshotFiles, type DownloadEvent } from '../../src/io/hub/index.js';
import { gitBlobSha1, MockHub, sha256 } from '../helpers/mock-hub.js';
import { makeTempDir, setHubEnv } from '../helpers/temp.js';

const C1 = 'a'.repeat(40);
const C2 = 'b'.repeat(40);
const C3 = 'c'.repeat(40);
const CONFIG_V1 = '{"model_type": "llama", "hidden_size": 8}\n';
const CONFIG_V2 = '{"model_type": "llama", "hidden_size": 16}\n';
const WEIGHTS = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 256));

let hub: MockHub;
let cache: { dir: string; remove: () => void };
let restoreEnv: () => void;
let opts: { cacheDir: string; endpoint: string };

before(async () => {
  restoreEnv = setHubEnv();
  hub = await MockHub.start({
    'org/model': {
      refs: { main: C2, v1: C1 },
      commits: {
        [C1]: { 'config.json': CONFIG_V1 },
        [C2]: { 'config.json': CONFIG_V2, 'sub/dir/notes.txt': 'nested', 'model.safetensors': WEIGHTS, 'copy.json': CONFIG_V2 },
        [C3]: { 'config.json': '{}' },
      },
      lfs: ['model.safetensors'],
    },
    'org/data': { refs: { main: C1 }, commits: { [C1]: { 'train.jsonl': '{"x": 1}\n' } } },
  });
});

after(async () => {
  await hub.close();
  restoreEnv();
});

beforeEach(() => {
  cache = makeTempDir();
  opts = { cacheDir: cache.dir, endpoint: hub.url };
  hub.resetRequests();
  hub.repos['org/model']!.refs.main = C2;
});

afterEach(() => cache.remove());

const repoDir = (): string => join(cache.dir, 'models--org--model');

test('first download writes blobs, refs and relative snapshot symlinks like huggingface_hub', async () => {
  const path = await hubDownload('org/model', 'config.json', opts);
  assert.equal(path, join(repoDir(), 'snapshots', C2, 'config.json'));
  assert.ok(lstatSync(path).isSymbolicLink());
  const etag = gitBlobSha1(Buffer.from(CONFIG_V2));
  assert.equal(readlinkSync(path), join('..', '..', 'blobs', etag));
  assert.equal(readFileSync(join(repoDir(), 'blobs', etag), 'utf8'), CONFIG_V2);
  assert.equal(readFileSync(join(repoDir(), 'refs', 'main'), 'utf8'), C2);
  assert.ok(existsSync(join(cache.dir, 'CACHEDIR.TAG')));
  assert.deepEqual(hub.requests.map((r) => `${r.method} ${r.path}`), [
    'HEAD /org/model/resolve/main/config.json',
    'GET /org/model/resolve/main/config.json',
  ]);
  assert.equal(hub.requests[0]!.headers['accept-encoding'], 'identity');

  const nested = await hubDownload('org/model', 'sub/dir/notes.txt', opts);
  assert.equal(readlinkSync(nested), join('..', '..', '..', '..', 'blobs', gitBlobSha1(Buffer.from('nested'))));
  assert.equal(readFileSync(nested, 'utf8'), 'nested');
  assert.deepEqual(
    readdirSync(join(repoDir(), 'blobs')).filter((n) => n.includes('incomplete')),
    [],
  );
});

test('identical contents under two names share one blob', async () => {
  await hubDownload('org/model', 'config.json', opts);
  hub.resetRequests();
  const copy = await hubDownload('org/model', 'copy.json', opts);
  assert.equal(readFileSync(copy, 'utf8'), CONFIG_V2);
  assert.equal(hub.count('GET'), 0);
});

test('cache hits: a branch costs one HEAD and no GET, a pinned commit costs no request', async () => {
  await hubDownload('org/model', 'config.json', opts);
  hub.resetRequests();
  const events: DownloadEvent[] = [];
  const again = await hubDownload('org/model', 'config.json', { ...opts, onProgress: (e) => events.push(e) });
  assert.equal(hub.count('HEAD'), 1);
  assert.equal(hub.count('GET'), 0);
  assert.deepEqual(events, [{ type: 'done', file: 'config.json', path: again, cached: true }]);
  hub.resetRequests();
  const pinned = await hubDownload('org/model', 'config.json', { ...opts, revision: C2 });
  assert.equal(pinned, again);
  assert.equal(hub.requests.length, 0);
});

test('revisions: branches and tags are recorded in refs/, commits are looked up directly', async () => {
  const main = await downloadFile('org/model', 'config.json', opts);
  const tag = await downloadFile('org/model', 'config.json', { ...opts, revision: 'v1' });
  assert.equal(main.commit, C2);
  assert.equal(tag.commit, C1);
  assert.equal(readFileSync(tag.path, 'utf8'), CONFIG_V1);
  assert.equal(readFileSync(join(repoDir(), 'refs', 'v1'), 'utf8'), C1);

  hub.resetRequests();
  const byCommit = await hubDownload('org/model', 'config.json', { ...opts, revision: C1 });
  assert.equal(byCommit, tag.path);
  assert.equal(hub.requests.length, 0);
  assert.deepEqual(readdirSync(join(repoDir(), 'refs')).sort(), ['main', 'v1']);

  hub.repos['org/model']!.refs.main = C3;
  const moved = await downloadFile('org/model', 'config.json', opts);
  assert.equal(moved.commit, C3);
  assert.equal(readFileSync(moved.path, 'utf8'), '{}');
  assert.equal(readFileSync(join(repoDir(), 'refs', 'main'), 'utf8'), C3);
});

test('a commit not yet cached is fetched with the commit in the URL and writes no ref', async () => {
  const path = await hubDownload('org/model', 'config.json', { ...opts, revision: C1 });
  assert.equal(readFileSync(path, 'utf8'), CONFIG_V1);
  assert.equal(hub.requests[0]!.path, `/org/model/resolve/${C1}/config.json`);
  assert.equal(existsSync(join(repoDir(), 'refs')), false);
});

test('dataset repos use the datasets/ URL prefix and datasets-- folder', async () => {
  const path = await hubDownload('org/data', 'train.jsonl', { ...opts, repoType: 'dataset' });
  assert.equal(path, join(cache.dir, 'datasets--org--data', 'snapshots', C1, 'train.jsonl'));
  assert.equal(hub.requests[0]!.path, '/datasets/org/data/resolve/main/train.jsonl');
});

test('LFS files: metadata from the redirect, blob named by sha256, GET on the CDN host', async (t) => {
  try {
    await fetch(`${hub.cdnUrl}/cdn/probe`);
  } catch {
    t.skip('IPv4-mapped IPv6 loopback is not available here');
    return;
  }
  hub.resetRequests();
  const events: DownloadEvent[] = [];
  const path = await hubDownload('org/model', 'model.safetensors', { ...opts, onProgress: (e) => events.push(e) });
  assert.equal(readlinkSync(path), join('..', '..', 'blobs', sha256(WEIGHTS)));
  assert.deepEqual(readFileSync(path), WEIGHTS);
  assert.deepEqual(hub.requests.map((r) => `${r.method} ${r.path}`), [
    'HEAD /org/model/resolve/main/model.safetensors',
    `GET /cdn/${sha256(WEIGHTS)}`,
  ]);
  assert.deepEqual(events[0], { type: 'start', file: 'model.safetensors', total: WEIGHTS.length, resumedFrom: 0 });
  const last = events.filter((e) => e.type === 'progress').at(-1);
  assert.deepEqual(last, { type: 'progress', file: 'model.safetensors', loaded: WEIGHTS.length, total: WEIGHTS.length });
  assert.deepEqual(events.at(-1), { type: 'done', file: 'model.safetensors', path, cached: false });
});

test('snapshotFiles fetches every file at the commit the first one resolved to', async () => {
  const snap = await snapshotFiles('org/model', ['config.json', 'sub/dir/notes.txt', 'copy.json'], { ...opts, maxWorkers: 2 });
  assert.equal(snap.commit, C2);
  assert.equal(snap.dir, join(repoDir(), 'snapshots', C2));
  assert.deepEqual(snap.paths, ['config.json', 'sub/dir/notes.txt', 'copy.json'].map((f) => join(snap.dir, ...f.split('/'))));
  const heads = hub.requests.filter((r) => r.method === 'HEAD').map((r) => r.path);
  assert.equal(heads[0], '/org/model/resolve/main/config.json');
  assert.deepEqual(heads.slice(1).sort(), [`/org/model/resolve/${C2}/copy.json`, `/org/model/resolve/${C2}/sub/dir/notes.txt`]);
});

test('concurrent requests for one file share a single transfer', async () => {
  const [a, b] = await Promise.all([hubDownload('org/model', 'config.json', opts), hubDownload('org/model', 'config.json', opts)]);
  assert.equal(a, b);
  assert.equal(hub.count('GET'), 1);
  assert.equal(readFileSync(a, 'utf8'), CONFIG_V2);
});

test('a renamed repo: the Hub redirect is followed and the file cached under the requested id', async () => {
  hub.renamed['org/old-name'] = 'org/model';
  const path = await hubDownload('org/old-name', 'config.json', opts);
  assert.equal(path, join(cache.dir, 'models--org--old-name', 'snapshots', C2, 'config.json'));
  assert.equal(readFileSync(path, 'utf8'), CONFIG_V2);
  assert.deepEqual(hub.requests.map((r) => `${r.method} ${r.path}`), [
    'HEAD /org/old-name/resolve/main/config.json',
    'HEAD /org/model/resolve/main/config.json',
    'GET /org/model/resolve/main/config.json',
  ]);
});
