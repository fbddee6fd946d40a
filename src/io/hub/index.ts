// Hugging Face Hub client: file downloads through the standard HF cache.
export { hubDownload, downloadFile } from './download.js';
export type { DownloadedFile } from './download.js';
export { snapshotFiles } from './snapshot.js';
export type { Snapshot, SnapshotOptions } from './snapshot.js';
export type { DownloadEvent, HubDownloadOptions } from './types.js';
export type { RepoType } from './repo.js';
export { isCommitHash, isValidRepoId, repoFolderName } from './repo.js';
export { hubCacheDir, resolveHubSettings, DEFAULT_ENDPOINT } from './settings.js';
export type { HubConnectionOptions, HubSettings } from './settings.js';
export * from './errors.js';
