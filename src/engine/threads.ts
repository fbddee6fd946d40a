// The one thread-count setting shared by GEMM and every kernel. PEFTJS_NUM_THREADS sets it at load.
import { native } from '../native/binding.js';

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads: n must be a positive integer, got ${n}`);
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

const fromEnv = process.env.PEFTJS_NUM_THREADS;
if (fromEnv !== undefined && fromEnv !== '') {
  const n = Number(fromEnv);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`PEFTJS_NUM_THREADS must be a positive integer, got '${fromEnv}'`);
  native.setNumThreads(n);
}
