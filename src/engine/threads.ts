// The one thread-count setting shared by GEMM and every kernel. PEFTJS_NUM_THREADS sets it at load.
import { native } from '../native/binding.js';
import { describeValue } from './dtype.js';
import { EngineError } from './errors.js';

// Far above any core count; OpenMP aborts or crashes on counts in the tens of thousands.
const MAX_THREADS = 1024;
const EXPECTED = `must be an integer in [1, ${MAX_THREADS}]`;

function isThreadCount(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_THREADS;
}

/** Sets the thread count of GEMM and the kernels: an integer from 1 to 1024. */
export function setNumThreads(n: number): void {
  if (!isThreadCount(n)) throw new EngineError('setNumThreads', 'n', `${EXPECTED}, got ${describeValue(n)}`);
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

const fromEnv = process.env.PEFTJS_NUM_THREADS;
if (fromEnv !== undefined && fromEnv !== '') {
  const n = Number(fromEnv);
  if (!isThreadCount(n)) throw new EngineError('PEFTJS_NUM_THREADS', undefined, `${EXPECTED}, got '${fromEnv}'`);
  native.setNumThreads(n);
}
