// Public option and event types of the Hub client.
import type { RepoType } from './repo.js';
import type { HubConnectionOptions } from './settings.js';

/** Download progress, reported per file. */
export type DownloadEvent =
  /** A transfer begins (`resumedFrom` > 0 when a partial download is continued). */
  | { type: 'start'; file: string; total: number | null; resumedFrom: number }
  | { type: 'progress'; file: string; loaded: number; total: number | null }
  /** The connection broke off; the transfer continues from `loaded` bytes. */
  | { type: 'retry'; file: string; loaded: number; attempt: number; reason: string }
  /** The file is available at `path`; `cached` when nothing was transferred. */
  | { type: 'done'; file: string; path: string; cached: boolean };

export interface HubDownloadOptions extends HubConnectionOptions {
  /** Branch, tag or 40-hex commit hash (default 'main'). */
  revision?: string;
  repoType?: RepoType;
  onProgress?: (event: DownloadEvent) => void;
  /** Consecutive broken transfers without new bytes tolerated before giving up (default 5). */
  maxRetries?: number;
}
