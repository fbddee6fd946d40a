// Maps a failing Hub response to a typed error, reading the Hub's X-Error-Code / X-Error-Message
// headers the way huggingface_hub does.
import {
  EntryNotFoundError,
  HubAuthError,
  HubHttpError,
  RepoNotFoundError,
  RevisionNotFoundError,
  type HubError,
  type HubTarget,
} from './errors.js';
import { isCommitHash } from './repo.js';

export function errorFromResponse(res: Response, target: HubTarget): HubError {
  const code = res.headers.get('x-error-code');
  const message = res.headers.get('x-error-message');
  const status = res.status;
  const said = message ? ` (${message})` : '';
  if (code === 'RevisionNotFound') {
    return new RevisionNotFoundError(target, `was not found on the Hub: no such branch, tag or commit${said}`);
  }
  if (code === 'EntryNotFound' || (status === 404 && code === null)) {
    // The commit names the cache folder that records the absence, so only a well-formed hash is kept.
    const commit = res.headers.get('x-repo-commit');
    return new EntryNotFoundError(
      target,
      `was not found on the Hub: the repository has no such file${said}`,
      commit !== null && isCommitHash(commit) ? commit : null,
    );
  }
  if (code === 'GatedRepo') {
    return new HubAuthError(target, status, `is not accessible (HTTP ${status}): the repository is gated; request access on the Hub and send a token that has it${said}`);
  }
  if (code === 'RepoNotFound') {
    return new RepoNotFoundError(
      target,
      `was not found on the Hub (HTTP ${status})${said}; if the repository is private or gated, send a token (HF_TOKEN) that can read it`,
    );
  }
  if (status === 401 || status === 403) {
    return new HubAuthError(
      target,
      status,
      `is not accessible (HTTP ${status})${said}: the token is missing, invalid or lacks access (the repository may be private, gated or absent)`,
    );
  }
  return new HubHttpError(target, status, `could not be fetched: HTTP ${status} ${res.statusText}${said} from ${res.url}`);
}
