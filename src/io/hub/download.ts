// hubDownload: one file of a Hub repository, through the HF cache. A pinned commit that is cached
// costs no request; otherwise a HEAD request resolves revision → commit and ETag, and the blob is
// fetched only when the cache lacks it. When the Hub cannot be asked (offline, unreachable, refused),
// the cached copy for the revision's last known commit is served, as huggingface_hub does.
import { existsSync } from 'node:fs';
import { RepoCache } from './cache.js';
import {
  describeError,
  EntryNotFoundError,
  HubArgumentError,
  HubError,
  LocalEntryNotFoundError,
  RevisionNotFoundError,
  type HubTarget,
} from './errors.js';
import { fetchMetadata, hubRequestHeaders } from './metadata.js';
import { isCommitHash, resolveUrl, validateTarget, type RepoType } from './repo.js';
import { resolveHubSettings, type HubSettings } from './settings.js';
import { transferBlob } from './transfer.js';
import type { HubDownloadOptions } from './types.js';

type FileTarget = HubTarget & { filename: string; revision: string; repoType: RepoType };

export interface DownloadedFile {
  path: string;
  commit: string;
}

/** Blob downloads in flight in this process, so that concurrent callers share one transfer. */
const inflight = new Map<string, Promise<void>>();

/** The cached file for the revision's known commit; EntryNotFoundError if the cache recorded it as absent. */
function fromCache(cache: RepoCache, t: FileTarget): DownloadedFile | null {
  const commit = cache.commitFor(t.revision);
  if (commit === null) return null;
  const path = cache.cachedFile(commit, t.filename);
  if (path !== null) return { path, commit };
  if (cache.isKnownMissing(commit, t.filename)) {
    throw new EntryNotFoundError(t, `was not found on the Hub: the repository has no such file (recorded in the cache)`, commit);
  }
  return null;
}

async function resolveOnline(
  cache: RepoCache,
  t: FileTarget,
  s: HubSettings,
  opts: HubDownloadOptions,
): Promise<DownloadedFile & { transferred: boolean }> {
  const url = resolveUrl(s.endpoint, t.repoId, t.repoType, t.revision, t.filename);
  const maxRetries = opts.maxRetries ?? 5;
  const onRetry = (attempt: number, reason: string): void =>
    opts.onProgress?.({ type: 'retry', file: t.filename, loaded: 0, attempt, reason });
  let meta;
  try {
    meta = await fetchMetadata(url, t, s.endpoint, s.token, s.etagTimeoutMs, { maxRetries, onRetry });
  } catch (e) {
    if (e instanceof EntryNotFoundError && e.commit !== null) {
      await cache.markMissing(e.commit, t.filename);
      await cache.writeRef(t.revision, e.commit);
    }
    if (e instanceof EntryNotFoundError || e instanceof RevisionNotFoundError) throw e;
    const cached = fromCache(cache, t);
    if (cached !== null) return { ...cached, transferred: false };
    if (e instanceof HubError) throw e;
    throw new LocalEntryNotFoundError(
      t,
      `is not in the local cache and the Hub at ${s.endpoint} could not be reached (${describeError(e)})`,
      { cause: e },
    );
  }
  await cache.prepare();
  await cache.writeRef(t.revision, meta.commit);
  const cached = cache.cachedFile(meta.commit, t.filename);
  if (cached !== null) return { path: cached, commit: meta.commit, transferred: false };
  const blob = cache.blobPath(meta.etag);
  let pending = inflight.get(blob);
  const transferred = pending === undefined && !existsSync(blob);
  if (transferred) {
    pending = transferBlob({
      url: meta.downloadUrl,
      headers: hubRequestHeaders(meta.onHub ? s.token : null),
      etag: meta.etag,
      expectedSize: meta.size,
      cache,
      target: t,
      stallTimeoutMs: s.downloadTimeoutMs,
      maxRetries,
      ...(opts.onProgress && { onProgress: opts.onProgress }),
    }).finally(() => inflight.delete(blob));
    inflight.set(blob, pending);
  }
  await pending;
  return { path: await cache.linkSnapshot(meta.commit, t.filename, meta.etag), commit: meta.commit, transferred };
}

/** hubDownload, also reporting the commit the revision resolved to. */
export async function downloadFile(repoId: string, filename: string, opts: HubDownloadOptions = {}): Promise<DownloadedFile> {
  const t: FileTarget = { repoId, filename, revision: opts.revision ?? 'main', repoType: opts.repoType ?? 'model' };
  validateTarget(t);
  if (typeof opts.maxRetries === 'number' && !(Number.isInteger(opts.maxRetries) && opts.maxRetries >= 0)) {
    throw new HubArgumentError(t, `has an invalid option: maxRetries must be a non-negative integer, got ${opts.maxRetries}`);
  }
  const s = resolveHubSettings(opts);
  const cache = new RepoCache(s.cacheDir, repoId, t.repoType);
  const cached = isCommitHash(t.revision) || s.offline !== null ? fromCache(cache, t) : null;
  if (cached === null && s.offline !== null) throw new LocalEntryNotFoundError(t, `is not in the local cache and ${s.offline}`);
  const result = cached !== null ? { ...cached, transferred: false } : await resolveOnline(cache, t, s, opts);
  opts.onProgress?.({ type: 'done', file: filename, path: result.path, cached: !result.transferred });
  return { path: result.path, commit: result.commit };
}

/**
 * Path of `filename` from `repoId` in the HF cache (`.../snapshots/<commit>/<filename>`), downloading
 * it if needed. Throws EntryNotFoundError, RevisionNotFoundError, RepoNotFoundError, HubAuthError,
 * LocalEntryNotFoundError (offline or unreachable and not cached), DownloadError, HubArgumentError.
 */
export async function hubDownload(repoId: string, filename: string, opts: HubDownloadOptions = {}): Promise<string> {
  return (await downloadFile(repoId, filename, opts)).path;
}
