// Where the files of a model, adapter or tokenizer come from: a local directory, or a Hub repo
// through the cache. A Hub source pins the commit its first answer came from, so every later file is
// taken from the same version (and, once cached, costs no request).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PeftjsError } from '../engine/errors.js';
import { settleInterruptedWrites } from './atomic-folder.js';
import { downloadFile, EntryNotFoundError, isValidRepoId, snapshotFiles, type HubDownloadOptions } from './hub/index.js';

export class ModelFolderError extends PeftjsError {
  override name = 'ModelFolderError';
}

export interface SourceOptions extends HubDownloadOptions {
  /** Folder inside the directory or repo that holds the files. */
  subfolder?: string;
}

export interface FileSource {
  /** For messages: "directory '<path>'" or "repo '<id>' (revision '<rev>')", with the subfolder. */
  readonly label: string;
  /** Commit of a Hub source once known; null for local directories. */
  readonly commit: string | null;
  /** Local path of `name`, or null when the source has no such file. */
  find(name: string): Promise<string | null>;
  /** Local paths of `names`, all of which must exist. */
  require(names: readonly string[]): Promise<string[]>;
}

function cleanSubfolder(subfolder: string | undefined): string {
  const s = (subfolder ?? '').replace(/^\/+|\/+$/g, '');
  if (s.split('/').includes('..')) throw new ModelFolderError(`subfolder '${subfolder}' must not contain '..'`);
  return s;
}

class LocalSource implements FileSource {
  readonly commit = null;
  readonly label: string;

  constructor(private readonly dir: string) {
    this.label = `directory '${dir}'`;
  }

  async find(name: string): Promise<string | null> {
    const p = join(this.dir, ...name.split('/'));
    return existsSync(p) && statSync(p).isFile() ? p : null;
  }

  async require(names: readonly string[]): Promise<string[]> {
    const missing = names.filter((n) => !existsSync(join(this.dir, ...n.split('/'))));
    if (missing.length > 0) throw new ModelFolderError(`${this.label} lacks ${missing.map((m) => `'${m}'`).join(', ')}`);
    return names.map((n) => join(this.dir, ...n.split('/')));
  }
}

class HubSource implements FileSource {
  commit: string | null = null;

  constructor(
    private readonly repoId: string,
    private readonly prefix: string,
    private readonly opts: HubDownloadOptions,
  ) {}

  get label(): string {
    const sub = this.prefix === '' ? '' : `, subfolder '${this.prefix}'`;
    return `repo '${this.repoId}' (revision '${this.opts.revision ?? 'main'}'${sub})`;
  }

  private fileOpts(): HubDownloadOptions {
    return this.commit === null ? this.opts : { ...this.opts, revision: this.commit };
  }

  private path(name: string): string {
    return this.prefix === '' ? name : `${this.prefix}/${name}`;
  }

  async find(name: string): Promise<string | null> {
    try {
      const f = await downloadFile(this.repoId, this.path(name), this.fileOpts());
      this.commit = f.commit;
      return f.path;
    } catch (e) {
      if (!(e instanceof EntryNotFoundError)) throw e;
      this.commit ??= e.commit;
      return null;
    }
  }

  async require(names: readonly string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const snap = await snapshotFiles(this.repoId, names.map((n) => this.path(n)), this.fileOpts());
    this.commit = snap.commit;
    return snap.paths;
  }
}

/** A local directory when `pathOrRepoId` is one, else the Hub repo of that id. */
export function openFileSource(pathOrRepoId: string, opts: SourceOptions = {}): FileSource {
  const { subfolder, ...hubOpts } = opts;
  const sub = cleanSubfolder(subfolder);
  if (existsSync(pathOrRepoId)) {
    if (!statSync(pathOrRepoId).isDirectory()) throw new ModelFolderError(`'${pathOrRepoId}' is a file; expected a directory or a Hub repo id`);
    const dir = sub === '' ? pathOrRepoId : join(pathOrRepoId, ...sub.split('/'));
    try {
      settleInterruptedWrites(dir);
    } catch (err) {
      throw new ModelFolderError(`'${dir}' holds an interrupted save that could not be finished or cleared (${(err as Error).message}); save into it again`);
    }
    return new LocalSource(dir);
  }
  if (!isValidRepoId(pathOrRepoId)) {
    throw new ModelFolderError(`'${pathOrRepoId}' is neither an existing directory nor a valid Hub repo id ('name' or 'namespace/name')`);
  }
  return new HubSource(pathOrRepoId, sub, hubOpts);
}
