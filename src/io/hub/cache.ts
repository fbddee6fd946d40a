// One repository's folder in the HF cache, laid out as huggingface_hub lays it out:
//   <cache>/<type>s--<org>--<name>/blobs/<etag>                 file contents, named by ETag
//                                 /snapshots/<commit>/<filename> relative symlinks into blobs/
//                                 /refs/<revision>               commit hash a branch or tag pointed at
//                                 /.no_exist/<commit>/<filename> empty markers for files the Hub lacks
//   <cache>/.locks/<type>s--<org>--<name>/<etag>.lock
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { symlinkAtomic, writeFileAtomic } from './atomic.js';
import { isCommitHash, repoFolderName, type RepoType } from './repo.js';

const CACHEDIR_TAG =
  'Signature: 8a477f597d28d172789f06886806bc55\n' +
  '# This file is a cache directory tag created by peftjs (Hugging Face hub cache layout).\n' +
  '# For information about cache directory tags, see:\n' +
  '#\thttps://bford.info/cachedir/\n';

export class RepoCache {
  readonly root: string;
  readonly lockDir: string;

  constructor(
    readonly cacheDir: string,
    repoId: string,
    repoType: RepoType,
  ) {
    const folder = repoFolderName(repoId, repoType);
    this.root = join(cacheDir, folder);
    this.lockDir = join(cacheDir, '.locks', folder);
  }

  blobPath(etag: string): string {
    return join(this.root, 'blobs', etag);
  }

  incompletePath(etag: string): string {
    return `${this.blobPath(etag)}.incomplete`;
  }

  lockPath(etag: string): string {
    return join(this.lockDir, `${etag}.lock`);
  }

  snapshotDir(commit: string): string {
    return join(this.root, 'snapshots', commit);
  }

  pointerPath(commit: string, filename: string): string {
    return join(this.snapshotDir(commit), ...filename.split('/'));
  }

  private noExistPath(commit: string, filename: string): string {
    return join(this.root, '.no_exist', commit, ...filename.split('/'));
  }

  /** The commit a revision resolves to without asking the Hub: itself if it is a hash, else refs/<revision>. */
  commitFor(revision: string): string | null {
    if (isCommitHash(revision)) return revision;
    const ref = join(this.root, 'refs', ...revision.split('/'));
    if (!existsSync(ref)) return null;
    const commit = readFileSync(ref, 'utf8').trim();
    return isCommitHash(commit) ? commit : null;
  }

  /** Path of the cached file (its symlink target must exist), or null. */
  cachedFile(commit: string, filename: string): string | null {
    const p = this.pointerPath(commit, filename);
    return existsSync(p) ? p : null;
  }

  isKnownMissing(commit: string, filename: string): boolean {
    return existsSync(this.noExistPath(commit, filename));
  }

  async markMissing(commit: string, filename: string): Promise<void> {
    const p = this.noExistPath(commit, filename);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, '');
  }

  /** Records that `revision` (a branch or tag) points at `commit`; a no-op for commit hashes. */
  async writeRef(revision: string, commit: string): Promise<void> {
    if (revision === commit || this.commitFor(revision) === commit) return;
    await writeFileAtomic(join(this.root, 'refs', ...revision.split('/')), commit);
  }

  /** Points snapshots/<commit>/<filename> at blobs/<etag> through a relative symlink. */
  async linkSnapshot(commit: string, filename: string, etag: string): Promise<string> {
    const pointer = this.pointerPath(commit, filename);
    await symlinkAtomic(relative(dirname(pointer), this.blobPath(etag)), pointer);
    return pointer;
  }

  async prepare(): Promise<void> {
    await mkdir(join(this.root, 'blobs'), { recursive: true });
    const tag = join(this.cacheDir, 'CACHEDIR.TAG');
    if (!existsSync(tag)) await writeFileAtomic(tag, CACHEDIR_TAG);
  }
}
