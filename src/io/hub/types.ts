// Public option and event types of the Hub client.
import type { RepoType } from './repo.js';
import type { HubConnectionOptions } from './settings.js';

/** Download progress, reported per file. */
export type DownloadEvent =
  /** A transfer begins (`resumedFrom` > 0 when a partial download is continued). */
  | { type: 'start'; file: string; total: number | null; resumedFrom: number }
  | { type: 'progress'; file: string; loaded: number; total: number | null }
  /** The connection broke off or the Hub answered 429/5xx; the request is sent again (a transfer continues from `loaded` bytes). */
  | { type: 'retry'; file: string; loaded: number; attempt: number; reason: string }
  /** The file is available at `path`; `cached` when nothing was transferred. */
  | { type: 'done'; file: string; path: string; cached: boolean };

export interface HubDownloadOptions extends HubConnectionOptions {
  /** Branch, tag or 40-hex commit hash (default 'main'). */
  revision?: string;
  repoType?: RepoType;
  onProgress?: (event: DownloadEvent) => void;
  /** Retries of a request answered 429/5xx, or of a transfer that broke off without new bytes, before giving up (default 5). */
  maxRetries?: number;
}
