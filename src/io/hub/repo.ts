// Repository coordinates: validation of repo ids, revisions and filenames, the cache folder name
// and the `resolve` URL of a file, as huggingface_hub builds them.
import { HubArgumentError, type HubTarget } from './errors.js';

export type RepoType = 'model' | 'dataset' | 'space';

const REPO_TYPES: readonly RepoType[] = ['model', 'dataset', 'space'];
const URL_PREFIX: Record<RepoType, string> = { model: '', dataset: 'datasets/', space: 'spaces/' };
const COMMIT_HASH = /^[0-9a-f]{40}$/;
const REPO_PART = /^\w(?:[\w.-]*\w)?$/;

/** `.` and `..` name no file of their own: the URL and the cache path would both collapse them. */
function isDotSegment(segment: string): boolean {
  return segment === '.' || segment === '..';
}

export function isCommitHash(revision: string): boolean {
  return COMMIT_HASH.test(revision);
}

/** Whether `id` is a well-formed Hub repo id ('name' or 'namespace/name'), as huggingface_hub checks it. */
export function isValidRepoId(id: string): boolean {
  const parts = id.split('/');
  const partsOk = parts.length <= 2 && parts.every((p) => REPO_PART.test(p));
  return partsOk && !id.includes('--') && !id.includes('..') && !id.endsWith('.git') && id.length <= 96;
}

/** Throws HubArgumentError unless repo id, repo type, revision and filename are all usable. */
export function validateTarget(t: HubTarget): void {
  if (!REPO_TYPES.includes(t.repoType as RepoType)) {
    throw new HubArgumentError(t, `is invalid: repoType must be one of ${REPO_TYPES.join(', ')}`);
  }
  if (!isValidRepoId(t.repoId)) {
    throw new HubArgumentError(
      t,
      "is invalid: a repo id is 'name' or 'namespace/name' (letters, digits, '-', '_', '.'; no '--' or '..'; at most 96 characters)",
    );
  }
  if (
    t.revision !== undefined &&
    (t.revision.length === 0 || t.revision.startsWith('/') || t.revision.includes('\0') || t.revision.split('/').some(isDotSegment))
  ) {
    throw new HubArgumentError(t, "is invalid: a revision is a branch, tag or commit hash (non-empty, no leading '/', '.' or '..' segments)");
  }
  if (t.filename !== undefined) {
    const segments = t.filename.replace(/\\/g, '/').split('/');
    if (
      t.filename.length === 0 ||
      t.filename.startsWith('/') ||
      /^[A-Za-z]:/.test(t.filename) ||
      t.filename.includes('\0') ||
      segments.some((s) => isDotSegment(s) || s === '')
    ) {
      throw new HubArgumentError(t, "is invalid: a filename is a relative '/'-separated path without empty, '.' or '..' segments");
    }
  }
}

/** `models--org--name`, `datasets--org--name`, … */
export function repoFolderName(repoId: string, repoType: RepoType): string {
  return [`${repoType}s`, ...repoId.split('/')].join('--');
}

/** Percent-encoding of Python's urllib.parse.quote: only letters, digits and `_.-~` stay as they are. */
function quote(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function resolveUrl(endpoint: string, repoId: string, repoType: RepoType, revision: string, filename: string): string {
  const path = filename.split('/').map(quote).join('/');
  return `${endpoint}/${URL_PREFIX[repoType]}${repoId}/resolve/${quote(revision)}/${path}`;
}
