// The metadata request: HEAD {endpoint}/{repo}/resolve/{revision}/{filename}. Redirects that stay on
// the Hub (renamed repos) are followed; a redirect elsewhere (CDN, storage) ends the walk, since that
// response already carries the file's metadata and the token must not leave the Hub. Each request is
// repeated while the answer is 429/5xx.
import { HubMetadataError, type HubTarget } from './errors.js';
import { isCommitHash } from './repo.js';
import { errorFromResponse } from './response-errors.js';
import { fetchRetrying, type RetryPolicy } from './retry.js';

const MAX_REDIRECTS = 20;
/** ETags name files in blobs/ and .locks/: a git sha1, a sha256, or another plain token, never a path. */
const BLOB_NAME = /^[A-Za-z0-9_-]{1,128}$/;

export interface FileMetadata {
  /** Commit the revision resolved to (X-Repo-Commit). */
  commit: string;
  /** Blob name: X-Linked-Etag (LFS sha256) or ETag (git sha1), without quotes or W/ prefix. */
  etag: string;
  /** Expected byte size when the Hub said. */
  size: number | null;
  /** Where to GET the bytes. */
  downloadUrl: string;
  /** Whether `downloadUrl` is on a Hub host, i.e. may receive the token. */
  onHub: boolean;
}

export function hubRequestHeaders(token: string | null): Record<string, string> {
  const h: Record<string, string> = {
    'user-agent': `peftjs; node/${process.versions.node}`,
    'accept-encoding': 'identity',
  };
  if (token !== null) h.authorization = `Bearer ${token}`;
  return h;
}

export function isHubHost(endpoint: string, url: string): boolean {
  const host = new URL(url).hostname.toLowerCase();
  return host === new URL(endpoint).hostname.toLowerCase() || host === 'hf.co' || host === 'huggingface.co';
}

function normalizeEtag(etag: string | null): string | null {
  if (etag === null) return null;
  return etag.replace(/^W\//, '').replace(/^"+|"+$/g, '') || null;
}

function intHeader(v: string | null): number | null {
  if (v === null || !/^\d+$/.test(v.trim())) return null;
  return Number(v.trim());
}

export async function fetchMetadata(
  url: string,
  target: HubTarget,
  endpoint: string,
  token: string | null,
  timeoutMs: number,
  retries: RetryPolicy,
): Promise<FileMetadata> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const send = (): Promise<Response> =>
      fetch(current, {
        method: 'HEAD',
        headers: hubRequestHeaders(token),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    const res = await fetchRetrying(send, retries);
    const location = res.headers.get('location');
    const isRedirect = res.status >= 300 && res.status < 400 && location !== null;
    if (!isRedirect && !res.ok) throw errorFromResponse(res, target);
    const next = isRedirect ? new URL(location, current).href : null;
    if (next !== null && (new URL(next).hostname === new URL(current).hostname || isHubHost(endpoint, next))) {
      current = next;
      continue;
    }
    const commit = res.headers.get('x-repo-commit');
    const etag = normalizeEtag(res.headers.get('x-linked-etag') ?? res.headers.get('etag'));
    if (commit === null) {
      throw new HubMetadataError(
        target,
        `could not be resolved: the response from ${current} has no X-Repo-Commit header, so it is not served by a Hub endpoint (check HF_ENDPOINT, proxy and firewall)`,
      );
    }
    if (!isCommitHash(commit)) {
      throw new HubMetadataError(
        target,
        `could not be resolved: the response from ${current} has X-Repo-Commit ${JSON.stringify(commit.slice(0, 100))}, not a 40-character lowercase hex commit hash`,
      );
    }
    if (etag === null) {
      throw new HubMetadataError(target, `could not be resolved: the response from ${current} has no ETag, so the file version cannot be pinned`);
    }
    if (!BLOB_NAME.test(etag)) {
      throw new HubMetadataError(
        target,
        `could not be resolved: the response from ${current} has ETag ${JSON.stringify(etag.slice(0, 100))}, expected letters, digits, '-' and '_' only (a content hash)`,
      );
    }
    const downloadUrl = next ?? current;
    return {
      commit,
      etag,
      size: intHeader(res.headers.get('x-linked-size')) ?? (isRedirect ? null : intHeader(res.headers.get('content-length'))),
      downloadUrl,
      onHub: isHubHost(endpoint, downloadUrl),
    };
  }
  throw new HubMetadataError(target, `could not be resolved: more than ${MAX_REDIRECTS} redirects from ${url}`);
}
