// Typed errors raised by the Hub client. Each names the repository and, where it applies, the file
// and revision that were asked for.
import { PeftjsError } from '../../engine/errors.js';

export interface HubTarget {
  repoId: string;
  repoType: string;
  revision?: string;
  filename?: string;
}

function describe(t: HubTarget): string {
  const kind = t.repoType === 'model' ? '' : `${t.repoType} `;
  const file = t.filename === undefined ? '' : `'${t.filename}' of `;
  const rev = t.revision === undefined ? '' : ` (revision '${t.revision}')`;
  return `${file}${kind}repo '${t.repoId}'${rev}`;
}

// Messages read "<file> of repo '<id>' (revision '<rev>') <detail>", so details are predicates:
// "is not in the local cache and HF_HUB_OFFLINE is set", "was not found on the Hub", …

/** An error's message with its cause's (fetch reports network failures as "fetch failed" + cause). */
export function describeError(e: unknown): string {
  const cause = (e as { cause?: unknown }).cause;
  const msg = e instanceof Error ? e.message : String(e);
  return cause instanceof Error ? `${msg}: ${cause.message}` : msg;
}

export class HubError extends PeftjsError {
  override name = 'HubError';
  constructor(
    readonly target: HubTarget,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${describe(target)} ${detail}`, options);
  }
}

/** A repo id, revision or filename that cannot name anything on the Hub. */
export class HubArgumentError extends HubError {
  override name = 'HubArgumentError';
}

/** The repository does not exist (or is private and no valid token was sent). */
export class RepoNotFoundError extends HubError {
  override name = 'RepoNotFoundError';
}

/** The repository exists but the branch, tag or commit does not. */
export class RevisionNotFoundError extends HubError {
  override name = 'RevisionNotFoundError';
}

/** The repository and revision exist but the file does not. */
export class EntryNotFoundError extends HubError {
  override name = 'EntryNotFoundError';
  constructor(
    target: HubTarget,
    detail: string,
    /** The commit the Hub resolved the revision to, when it said. */
    readonly commit: string | null = null,
  ) {
    super(target, detail);
  }
}

/** 401/403, or a gated repository: the token is missing, invalid or lacks access. */
export class HubAuthError extends HubError {
  override name = 'HubAuthError';
  constructor(
    target: HubTarget,
    readonly status: number,
    detail: string,
  ) {
    super(target, detail);
  }
}

/** Any other failing HTTP status. */
export class HubHttpError extends HubError {
  override name = 'HubHttpError';
  constructor(
    target: HubTarget,
    readonly status: number,
    detail: string,
  ) {
    super(target, detail);
  }
}

/** A response that lacks what a Hub endpoint always sends (commit header, ETag). */
export class HubMetadataError extends HubError {
  override name = 'HubMetadataError';
}

/** The file is needed from the network but requests are disabled, or the Hub could not be reached. */
export class LocalEntryNotFoundError extends HubError {
  override name = 'LocalEntryNotFoundError';
}

/** The transfer broke off or delivered a different number of bytes than announced. */
export class DownloadError extends HubError {
  override name = 'DownloadError';
}
