// Hub settings resolved like huggingface_hub does: explicit options first, then the HF_* environment
// variables, then the defaults. Read at call time so that a changed environment takes effect.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubConnectionOptions {
  /** Root of the HF cache (default: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub). */
  cacheDir?: string;
  /** Access token; `false` sends none (default: HF_TOKEN, else the token file under HF_HOME). */
  token?: string | false;
  /** Never touch the network; serve from the cache or fail. */
  localFilesOnly?: boolean;
  /** Hub base URL (default: HF_ENDPOINT, else https://huggingface.co). */
  endpoint?: string;
}

export interface HubSettings {
  cacheDir: string;
  endpoint: string;
  token: string | null;
  /** Why requests are disabled, for error messages; null when they are allowed. */
  offline: 'HF_HUB_OFFLINE is set' | 'localFilesOnly is set' | null;
  /** Timeout of the metadata (HEAD) request. */
  etagTimeoutMs: number;
  /** Longest silence tolerated while a body is streaming. */
  downloadTimeoutMs: number;
}

type Env = Record<string, string | undefined>;

const TRUE_VALUES = new Set(['1', 'ON', 'YES', 'TRUE']);

export function isTrue(value: string | undefined): boolean {
  return value !== undefined && TRUE_VALUES.has(value.toUpperCase());
}

/** `~` and `$VAR` / `${VAR}` expansion, as Python's expanduser + expandvars (unknown variables stay). */
function expandPath(p: string, env: Env): string {
  const vars = p.replace(/\$(\w+)|\$\{(\w+)\}/g, (m, a: string | undefined, b: string | undefined) => env[(a ?? b)!] ?? m);
  return vars === '~' || vars.startsWith('~/') ? join(homedir(), vars.slice(1)) : vars;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

export function hfHome(env: Env = process.env): string {
  const xdg = nonEmpty(env.XDG_CACHE_HOME) ?? join(homedir(), '.cache');
  return expandPath(nonEmpty(env.HF_HOME) ?? join(xdg, 'huggingface'), env);
}

export function hubCacheDir(env: Env = process.env): string {
  const explicit = nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE);
  return explicit !== undefined ? expandPath(explicit, env) : join(hfHome(env), 'hub');
}

function cleanToken(t: string | undefined): string | null {
  const v = t?.replace(/[\r\n]/g, '').trim();
  return v ? v : null;
}

function tokenFromFile(env: Env): string | null {
  const path = nonEmpty(env.HF_TOKEN_PATH) ? expandPath(env.HF_TOKEN_PATH!, env) : join(hfHome(env), 'token');
  try {
    return cleanToken(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

function seconds(v: string | undefined, fallback: number): number {
  const n = v === undefined ? NaN : Number.parseInt(v, 10);
  return (Number.isFinite(n) && n > 0 ? n : fallback) * 1000;
}

export function resolveHubSettings(opts: HubConnectionOptions = {}, env: Env = process.env): HubSettings {
  const token =
    opts.token === false
      ? null
      : (cleanToken(opts.token) ?? cleanToken(env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN) ?? tokenFromFile(env));
  const offline =
    isTrue(nonEmpty(env.HF_HUB_OFFLINE) ?? env.TRANSFORMERS_OFFLINE)
      ? 'HF_HUB_OFFLINE is set'
      : opts.localFilesOnly
        ? 'localFilesOnly is set'
        : null;
  return {
    cacheDir: opts.cacheDir !== undefined ? expandPath(opts.cacheDir, env) : hubCacheDir(env),
    endpoint: (opts.endpoint ?? nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_ENDPOINT).replace(/\/+$/, ''),
    token,
    offline,
    etagTimeoutMs: seconds(env.HF_HUB_ETAG_TIMEOUT, 10),
    downloadTimeoutMs: seconds(env.HF_HUB_DOWNLOAD_TIMEOUT, 10),
  };
}
