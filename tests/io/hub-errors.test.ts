// Offline mode, tokens, and the typed errors for missing repos, revisions, files and refused access.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import {
  EntryNotFoundError,
  HubArgumentError,
  HubAuthError,
  hubDownload,
  LocalEntryNotFoundError,
  RepoNotFoundError,
  RevisionNotFoundError,
} from '../../src/io/hub/index.js';
import { MockHub } from '../helpers/mock-hub.js';
import { makeTempDir, setHubEnv } from '../helpers/temp.js';

const C1 = 'd'.repeat(40);
let hub: MockHub;
let cache: { dir: string; remove: () => void };
let restoreEnv: () => void;
let opts: { cacheDir: string; endpoint: string };

before(async () => {
  hub = await MockHub.start({
    'org/public': { refs: { main: C1 }, commits: { [C1]: { 'config.json': '{}' } } },
    'org/private': { refs: { main: C1 }, commits: { [C1]: { 'config.json': '{"private": true}' } }, token: 'hf_secret' },
    'org/gated': { refs: { main: C1 }, commits: { [C1]: { 'config.json': '{}' } }, gated: true },
  });
});

after(() => hub.close());

beforeEach(() => {
  restoreEnv = setHubEnv();
  cache = makeTempDir();
  opts = { cacheDir: cache.dir, endpoint: hub.url };
  hub.resetRequests();
});

afterEach(() => {
  cache.remove();
  restoreEnv();
});

function expectError<E extends Error>(cls: new (...a: never[]) => E, pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  };
}

test('HF_HUB_OFFLINE: no request, and a clear error when the file is not cached', async () => {
  process.env.HF_HUB_OFFLINE = '1';
  await assert.rejects(
    hubDownload('org/public', 'config.json', opts),
    expectError(LocalEntryNotFoundError, /^'config\.json' of repo 'org\/public' \(revision 'main'\) is not in the local cache and HF_HUB_OFFLINE is set$/),
  );
  assert.equal(hub.requests.length, 0);
});

test('HF_HUB_OFFLINE and localFilesOnly serve cached files through refs/ without any request', async () => {
  const online = await hubDownload('org/public', 'config.json', opts);
  hub.resetRequests();
  process.env.HF_HUB_OFFLINE = 'true';
  assert.equal(await hubDownload('org/public', 'config.json', opts), online);
  delete process.env.HF_HUB_OFFLINE;
  assert.equal(await hubDownload('org/public', 'config.json', { ...opts, localFilesOnly: true }), online);
  await assert.rejects(
    hubDownload('org/public', 'other.json', { ...opts, localFilesOnly: true }),
    expectError(LocalEntryNotFoundError, /'other\.json' .* is not in the local cache and localFilesOnly is set/),
  );
  assert.equal(hub.requests.length, 0);
});

test('HF_TOKEN is sent as a Bearer token; token: false sends none', async () => {
  process.env.HF_TOKEN = 'hf_secret';
  const path = await hubDownload('org/private', 'config.json', opts);
  assert.equal(readFileSync(path, 'utf8'), '{"private": true}');
  assert.deepEqual(hub.requests.map((r) => r.headers.authorization), ['Bearer hf_secret', 'Bearer hf_secret']);
  hub.resetRequests();
  await hubDownload('org/public', 'config.json', { ...opts, token: false });
  assert.deepEqual(hub.requests.map((r) => r.headers.authorization), [undefined, undefined]);
});

test('the token file under HF_HOME is used when HF_TOKEN is unset', async () => {
  const home = makeTempDir();
  try {
    delete process.env.HF_TOKEN_PATH;
    process.env.HF_HOME = home.dir;
    writeFileSync(join(home.dir, 'token'), 'hf_secret\n');
    await hubDownload('org/private', 'config.json', opts);
    assert.equal(hub.requests[0]!.headers.authorization, 'Bearer hf_secret');
  } finally {
    home.remove();
  }
});

test('404 for a file: EntryNotFoundError naming repo and file, recorded under .no_exist/<commit>/', async () => {
  await assert.rejects(
    hubDownload('org/public', 'sub/missing.json', opts),
    expectError(EntryNotFoundError, /^'sub\/missing\.json' of repo 'org\/public' \(revision 'main'\) was not found on the Hub/),
  );
  assert.ok(existsSync(join(cache.dir, 'models--org--public', '.no_exist', C1, 'sub', 'missing.json')));
  assert.equal(readFileSync(join(cache.dir, 'models--org--public', 'refs', 'main'), 'utf8'), C1);
  hub.resetRequests();
  await assert.rejects(hubDownload('org/public', 'sub/missing.json', { ...opts, revision: C1 }), EntryNotFoundError);
  assert.equal(hub.requests.length, 0);
});

test('unknown repo → RepoNotFoundError, unknown revision → RevisionNotFoundError', async () => {
  await assert.rejects(hubDownload('org/nothing', 'config.json', opts), expectError(RepoNotFoundError, /repo 'org\/nothing'.*HTTP 401/));
  await assert.rejects(
    hubDownload('org/public', 'config.json', { ...opts, revision: 'no-such-branch' }),
    expectError(RevisionNotFoundError, /\(revision 'no-such-branch'\) was not found on the Hub/),
  );
});

test('401 with a wrong token and 403 for a gated repo → HubAuthError with the status', async () => {
  await assert.rejects(hubDownload('org/private', 'config.json', { ...opts, token: 'hf_wrong' }), (e: unknown) => {
    assert.ok(e instanceof HubAuthError);
    assert.equal(e.status, 401);
    assert.match(e.message, /'config\.json' of repo 'org\/private'.*Invalid credentials/);
    return true;
  });
  await assert.rejects(hubDownload('org/gated', 'config.json', opts), (e: unknown) => {
    assert.ok(e instanceof HubAuthError);
    assert.equal(e.status, 403);
    assert.match(e.message, /repo 'org\/gated'.*gated/);
    return true;
  });
});

test('an unreachable Hub falls back to the cached file, else LocalEntryNotFoundError', async () => {
  const cached = await hubDownload('org/public', 'config.json', opts);
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const deadEndpoint = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((r) => closed.close(() => r()));
  assert.equal(await hubDownload('org/public', 'config.json', { ...opts, endpoint: deadEndpoint }), cached);
  await assert.rejects(
    hubDownload('org/public', 'tokenizer.json', { ...opts, endpoint: deadEndpoint }),
    expectError(LocalEntryNotFoundError, /'tokenizer\.json' .* is not in the local cache and the Hub at http:\/\/127\.0\.0\.1:\d+ could not be reached/),
  );
});

test('malformed repo ids, revisions and filenames → HubArgumentError before any request', async () => {
  for (const [repo, file, revision] of [
    ['org/a/b', 'config.json', 'main'],
    ['org--x/name', 'config.json', 'main'],
    ['-org/name', 'config.json', 'main'],
    ['org/name', '../escape.json', 'main'],
    ['org/name', '/abs.json', 'main'],
    ['org/name', 'config.json', '../../refs'],
  ] as const) {
    await assert.rejects(hubDownload(repo, file, { ...opts, revision }), HubArgumentError, `${repo} ${file} ${revision}`);
  }
  assert.equal(hub.requests.length, 0);
});
