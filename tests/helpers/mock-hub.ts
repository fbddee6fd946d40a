// A local stand-in for the Hub's `resolve` endpoint on 127.0.0.1 (random port), speaking the same
// protocol: X-Repo-Commit, ETag (git sha1) or X-Linked-Etag/X-Linked-Size plus a redirect to a
// "CDN" host for LFS files, X-Error-Code on errors, Range requests. It records every request and
// can cut a download off after a number of bytes.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLocalServer, type LocalServer } from './local-server.js';

export interface MockRepo {
  /** Branch or tag → commit. */
  refs: Record<string, string>;
  /** Commit → filename → contents. */
  commits: Record<string, Record<string, string | Uint8Array>>;
  /** Files served as LFS (X-Linked-Etag + redirect to the CDN host). */
  lfs?: string[];
  /** Token required to read the repo (401 without it). */
  token?: string;
  /** 403 GatedRepo for everyone. */
  gated?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

export function gitBlobSha1(data: Uint8Array): string {
  return createHash('sha1').update(`blob ${data.byteLength}\0`).update(data).digest('hex');
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const bytes = (c: string | Uint8Array): Buffer => (typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c));

export class MockHub {
  readonly requests: RecordedRequest[] = [];
  /** Renamed repos: old id → new id, answered with a relative 307 like the Hub's. */
  readonly renamed: Record<string, string> = {};
  /** Byte counts after which the next GETs of file contents are cut off (one entry per GET). The
   * client may lose the last bytes before the cut, so it resumes from at most there. */
  readonly interruptions: number[] = [];
  private readonly blobsBySha256 = new Map<string, Buffer>();

  private server!: LocalServer;

  private constructor(readonly repos: Record<string, MockRepo>) {}

  static async start(repos: Record<string, MockRepo>): Promise<MockHub> {
    const hub = new MockHub(repos);
    hub.server = await startLocalServer((req, res) => hub.handle(req, res));
    return hub;
  }

  get port(): number {
    return this.server.port;
  }

  get url(): string {
    return this.server.url;
  }

  /** A different host name for the same server, standing for the LFS CDN. */
  get cdnUrl(): string {
    return `http://[::ffff:127.0.0.1]:${this.port}`;
  }

  count(method?: string): number {
    return this.requests.filter((r) => method === undefined || r.method === method).length;
  }

  resetRequests(): void {
    this.requests.length = 0;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = decodeURI(req.url ?? '/');
    this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers });
    if (path.startsWith('/cdn/')) {
      const blob = this.blobsBySha256.get(path.slice('/cdn/'.length));
      if (blob === undefined) return this.fail(res, 404, {});
      return this.send(req, res, blob, {});
    }
    const m = /^\/(?:datasets\/|spaces\/)?(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
    if (m === null) return this.fail(res, 404, {});
    const repoId = decodeURIComponent(m[1]!);
    const revision = decodeURIComponent(m[2]!);
    const filename = m[3]!.split('/').map(decodeURIComponent).join('/');
    const newId = this.renamed[repoId];
    if (newId !== undefined) {
      res.writeHead(307, { location: req.url!.replace(`/${m[1]!}/resolve/`, `/${newId}/resolve/`), 'content-length': '0' });
      return void res.end();
    }
    const repo = this.repos[repoId];
    if (repo === undefined) return this.fail(res, 401, { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' });
    if (repo.gated) return this.fail(res, 403, { 'x-error-code': 'GatedRepo', 'x-error-message': 'Access to this repo is restricted' });
    if (repo.token !== undefined) {
      const auth = req.headers.authorization;
      if (auth === undefined) return this.fail(res, 401, { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' });
      if (auth !== `Bearer ${repo.token}`) return this.fail(res, 401, { 'x-error-message': 'Invalid credentials in Authorization header' });
    }
    const commit = repo.refs[revision] ?? (repo.commits[revision] ? revision : undefined);
    if (commit === undefined) return this.fail(res, 404, { 'x-error-code': 'RevisionNotFound', 'x-error-message': 'Invalid rev id' });
    const content = repo.commits[commit]![filename];
    if (content === undefined) {
      return this.fail(res, 404, { 'x-error-code': 'EntryNotFound', 'x-error-message': 'Entry not found', 'x-repo-commit': commit });
    }
    const data = bytes(content);
    if (repo.lfs?.includes(filename)) {
      const sha = sha256(data);
      this.blobsBySha256.set(sha, data);
      res.writeHead(302, {
        location: `${this.cdnUrl}/cdn/${sha}`,
        'x-repo-commit': commit,
        'x-linked-etag': `"${sha}"`,
        'x-linked-size': String(data.byteLength),
        'content-length': '0',
      });
      return void res.end();
    }
    this.send(req, res, data, { 'x-repo-commit': commit, etag: `"${gitBlobSha1(data)}"` });
  }

  private fail(res: ServerResponse, status: number, headers: Record<string, string>): void {
    res.writeHead(status, { ...headers, 'content-length': '0' });
    res.end();
  }

  private send(req: IncomingMessage, res: ServerResponse, data: Buffer, headers: Record<string, string>): void {
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start > data.byteLength || (range && start === data.byteLength)) {
      return this.fail(res, 416, { 'content-range': `bytes */${data.byteLength}` });
    }
    const body = data.subarray(start);
    res.writeHead(range ? 206 : 200, {
      ...headers,
      'content-length': String(body.byteLength),
      'accept-ranges': 'bytes',
      ...(range && { 'content-range': `bytes ${start}-${data.byteLength - 1}/${data.byteLength}` }),
    });
    if (req.method === 'HEAD') return void res.end();
    const cut = this.interruptions.shift();
    if (cut !== undefined && cut < body.byteLength) {
      // Give the client time to read what was sent: a fetch body stream drops the chunks it still
      // holds when the connection fails.
      res.write(body.subarray(0, cut), () => setTimeout(() => res.destroy(), 100));
      return;
    }
    res.end(body);
  }
}
