// Cache directory, endpoint, token and offline resolution from options and HF_* variables.
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hubCacheDir, resolveHubSettings } from '../../src/io/hub/index.js';

const NO_TOKEN_FILE = { HF_TOKEN_PATH: join('nonexistent', 'token') };

test('cache dir: HF_HUB_CACHE, else HF_HOME/hub, else XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub', () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/c/hub', HF_HOME: '/h' }), '/c/hub');
  assert.equal(hubCacheDir({ HUGGINGFACE_HUB_CACHE: '/legacy', HF_HOME: '/h' }), '/legacy');
  assert.equal(hubCacheDir({ HF_HOME: '/h', XDG_CACHE_HOME: '/x' }), join('/h', 'hub'));
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x' }), join('/x', 'huggingface', 'hub'));
  assert.equal(hubCacheDir({}), join(homedir(), '.cache', 'huggingface', 'hub'));
  assert.equal(hubCacheDir({ HF_HOME: '~/hf' }), join(homedir(), 'hf', 'hub'));
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '$BASE/hub', BASE: '/b' }), '/b/hub');
});

test('endpoint, token and offline flags', () => {
  const s = resolveHubSettings({}, { ...NO_TOKEN_FILE, HF_ENDPOINT: 'http://mirror.local/', HF_TOKEN: ' hf_x\n', HF_HUB_OFFLINE: 'yes' });
  assert.equal(s.endpoint, 'http://mirror.local');
  assert.equal(s.token, 'hf_x');
  assert.equal(s.offline, 'HF_HUB_OFFLINE is set');
  const d = resolveHubSettings({ endpoint: 'http://127.0.0.1:1', token: 'explicit' }, { ...NO_TOKEN_FILE, HF_TOKEN: 'env', HF_HUB_OFFLINE: '0' });
  assert.equal(d.endpoint, 'http://127.0.0.1:1');
  assert.equal(d.token, 'explicit');
  assert.equal(d.offline, null);
  assert.equal(resolveHubSettings({ token: false }, { HF_TOKEN: 'env' }).token, null);
  assert.equal(resolveHubSettings({}, NO_TOKEN_FILE).endpoint, 'https://huggingface.co');
  assert.equal(resolveHubSettings({}, { ...NO_TOKEN_FILE, TRANSFORMERS_OFFLINE: '1' }).offline, 'HF_HUB_OFFLINE is set');
  assert.equal(resolveHubSettings({ localFilesOnly: true }, NO_TOKEN_FILE).offline, 'localFilesOnly is set');
  assert.equal(resolveHubSettings({}, { ...NO_TOKEN_FILE, HF_HUB_ETAG_TIMEOUT: '3' }).etagTimeoutMs, 3000);
});
