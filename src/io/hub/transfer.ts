// GET of one blob into the cache: continues a partial download with `Range: bytes=<n>-`, retries
// connections that break off and 429/5xx answers, checks the size and renames the finished file to
// blobs/<etag>.
import { open, rename, rm, truncate } from 'node:fs/promises';
import type { RepoCache } from './cache.js';
import { describeError, DownloadError, HubError, type HubTarget } from './errors.js';
import { claimPartial, releasePartial, type Partial } from './partial.js';
import { errorFromResponse } from './response-errors.js';
import { backoffMs, isRetryableStatus, RetryableAnswer, retryTiming, statusRetryDelayMs } from './retry.js';
import type { DownloadEvent } from './types.js';

export interface TransferRequest {
  url: string;
  headers: Record<string, string>;
  etag: string;
  expectedSize: number | null;
  cache: RepoCache;
  target: HubTarget & { filename: string };
  /** Longest silence tolerated while waiting for bytes. */
  stallTimeoutMs: number;
  maxRetries: number;
  onProgress?: (event: DownloadEvent) => void;
}

/** Total size announced by a response: Content-Range's total for 206, else Content-Length. */
function announcedTotal(res: Response): number | null {
  const range = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
  if (range) return Number(range[1]);
  const len = res.headers.get('content-length');
  return res.status === 200 && len !== null && /^\d+$/.test(len) ? Number(len) : null;
}

function rangeStart(res: Response): number | null {
  const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
  return m ? Number(m[1]) : null;
}

/** One GET appending to the partial; resolves when the body ended, rejects when it broke off. */
async function attempt(req: TransferRequest, part: Partial, state: { total: number | null }): Promise<void> {
  const controller = new AbortController();
  const arm = (): NodeJS.Timeout => setTimeout(() => controller.abort(new Error(`no data for ${req.stallTimeoutMs} ms`)), req.stallTimeoutMs);
  let timer = arm();
  const rearm = (): void => {
    clearTimeout(timer);
    timer = arm();
  };
  try {
    const headers = part.size > 0 ? { ...req.headers, range: `bytes=${part.size}-` } : req.headers;
    const res = await fetch(req.url, { headers, signal: controller.signal });
    if (res.status === 416 && part.size > 0) {
      await res.body?.cancel();
      if (part.size === req.expectedSize) return;
      await truncate(part.path, 0);
      part.size = 0;
      throw new Error('the server rejected the range of the partial download; starting over');
    }
    if (!res.ok) {
      await res.body?.cancel();
      const error = errorFromResponse(res, req.target);
      throw isRetryableStatus(res.status) ? new RetryableAnswer(res, error) : error;
    }
    if (res.status === 206 && rangeStart(res) !== part.size) {
      // Bytes from elsewhere than the end of the partial would be appended out of place: start over.
      await res.body?.cancel();
      await truncate(part.path, 0);
      const asked = part.size;
      part.size = 0;
      throw new Error(
        `the server answered the request for bytes from ${asked} with Content-Range ${JSON.stringify(res.headers.get('content-range'))}; starting over`,
      );
    }
    if (part.size > 0 && res.status !== 206) {
      // The server ignored the range and sends the whole file: start over.
      await truncate(part.path, 0);
      part.size = 0;
    }
    // With no size announced anywhere the body is taken as it comes, as huggingface_hub does.
    const total = req.expectedSize ?? announcedTotal(res);
    state.total = total;
    const file = await open(part.path, 'a');
    try {
      for await (const chunk of res.body ?? []) {
        rearm();
        await file.write(chunk as Uint8Array);
        part.size += (chunk as Uint8Array).byteLength;
        // More bytes than announced: stop reading now; transferBlob discards the partial.
        if (total !== null && part.size > total) break;
        req.onProgress?.({ type: 'progress', file: req.target.filename, loaded: part.size, total });
      }
    } finally {
      await file.close();
    }
  } finally {
    clearTimeout(timer);
  }
}

/** The pause before the next attempt: what a 429/5xx answer asks for, else the connection backoff. */
function retryDelayMs(failure: unknown, failures: number): number {
  return failure instanceof RetryableAnswer ? statusRetryDelayMs(failure.retryAfter, failures) : backoffMs(failures, retryTiming.connection);
}

/** Downloads the blob to blobs/<etag>, continuing a partial download when one is found. */
export async function transferBlob(req: TransferRequest): Promise<void> {
  const { cache, etag, target } = req;
  const resting = cache.incompletePath(etag);
  const part = await claimPartial(resting);
  const state = { total: req.expectedSize };
  req.onProgress?.({ type: 'start', file: target.filename, total: state.total, resumedFrom: part.size });
  let failures = 0;
  try {
    for (;;) {
      const before = part.size;
      try {
        await attempt(req, part, state);
        if (state.total === null || part.size === state.total) break;
        if (part.size > state.total) {
          await rm(part.path, { force: true });
          throw new DownloadError(target, `could not be downloaded: received ${part.size} bytes but the file has ${state.total}; the partial download was discarded`);
        }
        throw new Error(`connection closed after ${part.size} of ${state.total} bytes`);
      } catch (e) {
        if (e instanceof HubError) throw e;
        failures = part.size > before ? 1 : failures + 1;
        if (failures > req.maxRetries) {
          if (e instanceof RetryableAnswer) throw e.error;
          throw new DownloadError(target, `could not be downloaded: the transfer broke off after ${part.size} bytes (${describeError(e)}); the next download resumes from there`, { cause: e });
        }
        req.onProgress?.({ type: 'retry', file: target.filename, loaded: part.size, attempt: failures, reason: describeError(e) });
        if (part.size === before) await retryTiming.sleep(retryDelayMs(e, failures));
      }
    }
    await rename(part.path, cache.blobPath(etag));
  } catch (e) {
    await releasePartial(part, resting).catch(() => undefined);
    throw e;
  }
}
