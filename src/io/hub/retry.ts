// Retries of answers that mean "try again later" (429, and the 5xx of an overloaded or restarting
// server), with exponential backoff or the wait the server asks for in Retry-After, as huggingface_hub
// retries them.
import { setTimeout as sleep } from 'node:timers/promises';
import type { HubError } from './errors.js';

export interface Backoff {
  /** Wait before the first retry; each further retry doubles it. */
  baseMs: number;
  capMs: number;
}

/** How long retries wait. Internal, not re-exported: tests shorten the waits or replace `sleep`. */
export const retryTiming = {
  /** After a 429/5xx answer without a usable Retry-After. */
  status: { baseMs: 1000, capMs: 8000 } satisfies Backoff,
  /** After a connection that broke off without delivering new bytes. */
  connection: { baseMs: 250, capMs: 2000 } satisfies Backoff,
  /** Longest Retry-After honoured, so that a server cannot hold a download indefinitely. */
  retryAfterCapMs: 60_000,
  sleep: (ms: number): Promise<void> => sleep(ms),
};

const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/** The wait before retry number `retry` (from 1). */
export function backoffMs(retry: number, backoff: Backoff): number {
  return Math.min(backoff.baseMs * 2 ** (retry - 1), backoff.capMs);
}

/** Retry-After as a wait: delay-seconds or an HTTP-date; null when absent or unreadable. */
function retryAfterMs(value: string | null): number | null {
  const v = value?.trim() ?? '';
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // HTTP-dates start with the day name; Date.parse alone would also take strings such as "1.5".
  const date = /^[A-Za-z]/.test(v) ? Date.parse(v) : NaN;
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/** The wait before retry number `retry` of a 429/5xx answer: its Retry-After (capped), else the backoff. */
export function statusRetryDelayMs(retryAfter: string | null, retry: number): number {
  const asked = retryAfterMs(retryAfter);
  return asked === null ? backoffMs(retry, retryTiming.status) : Math.min(asked, retryTiming.retryAfterCapMs);
}

function describeStatus(res: Response): string {
  return `HTTP ${res.status} ${res.statusText}`.trimEnd();
}

/** A 429/5xx answer; `error` is what to raise once no retries are left. */
export class RetryableAnswer extends Error {
  readonly retryAfter: string | null;

  constructor(
    res: Response,
    readonly error: HubError,
  ) {
    super(describeStatus(res));
    this.retryAfter = res.headers.get('retry-after');
  }
}

export interface RetryPolicy {
  maxRetries: number;
  onRetry: (retry: number, reason: string) => void;
}

/** Sends the request again while it is answered 429/5xx, at most `maxRetries` times; returns the last answer. */
export async function fetchRetrying(send: () => Promise<Response>, policy: RetryPolicy): Promise<Response> {
  for (let retry = 1; ; retry++) {
    const res = await send();
    if (!isRetryableStatus(res.status) || retry > policy.maxRetries) return res;
    await res.body?.cancel();
    policy.onRetry(retry, describeStatus(res));
    await retryTiming.sleep(statusRetryDelayMs(res.headers.get('retry-after'), retry));
  }
}
