// snapshotFiles: several files of one repository at one commit. The first file resolves the revision;
// the others are then fetched at that commit, so a branch moving mid-way cannot mix two versions.
import { downloadFile } from './download.js';
import { HubArgumentError } from './errors.js';
import { RepoCache } from './cache.js';
import { resolveHubSettings } from './settings.js';
import type { HubDownloadOptions } from './types.js';

export interface SnapshotOptions extends HubDownloadOptions {
  /** Files downloaded at the same time (default 8). */
  maxWorkers?: number;
}

export interface Snapshot {
  /** Commit every file was taken from. */
  commit: string;
  /** `<cache>/<repo folder>/snapshots/<commit>`. */
  dir: string;
  /** Local path of each requested file, in request order. */
  paths: string[];
}

export async function snapshotFiles(repoId: string, filenames: readonly string[], opts: SnapshotOptions = {}): Promise<Snapshot> {
  const { maxWorkers = 8, ...fileOpts } = opts;
  const target = { repoId, repoType: opts.repoType ?? 'model', revision: opts.revision ?? 'main' };
  if (filenames.length === 0) throw new HubArgumentError(target, 'was asked for no files: snapshotFiles needs at least one filename');
  if (!(Number.isInteger(maxWorkers) && maxWorkers >= 1)) {
    throw new HubArgumentError(target, `has an invalid option: maxWorkers must be a positive integer, got ${maxWorkers}`);
  }
  const first = await downloadFile(repoId, filenames[0]!, fileOpts);
  const paths: string[] = [first.path];
  let next = 1;
  const worker = async (): Promise<void> => {
    while (next < filenames.length) {
      const i = next++;
      paths[i] = (await downloadFile(repoId, filenames[i]!, { ...fileOpts, revision: first.commit })).path;
    }
  };
  await Promise.all(Array.from({ length: Math.min(maxWorkers, filenames.length - 1) }, worker));
  const cache = new RepoCache(resolveHubSettings(fileOpts).cacheDir, repoId, target.repoType);
  return { commit: first.commit, dir: cache.snapshotDir(first.commit), paths };
}
