// Loads the compiled N-API addon. Every function here trusts its arguments: the engine layer
// validates shapes, dtypes and indices before calling in.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Buf = ArrayBuffer;
type Ints = Int32Array;

export interface NativeAddon {
  allocBuffer(nbytes: number, zero: boolean): Buf;
  freeBuffer(buf: Buf): void;
  setAllocatorCacheLimit(bytes: number): void;
  emptyAllocatorCache(): void;
  allocatorStats(): [liveBlocks: number, cachedBytes: number, liveBytes: number, peakLiveBytes: number];
  copyBytes(src: Buf, srcOffset: number, dst: Buf, dstOffset: number, nbytes: number): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  matmul(
    a: Buf, aOffset: number, b: Buf, bOffset: number, c: Buf, cOffset: number,
    batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean,
    alpha: number, beta: number, strideA: number, strideB: number, strideC: number,
  ): void;
  fillUniform(buf: Buf, n: number, seedHi: number, seedLo: number, counter: number, low: number, high: number): void;
  fillNormal(buf: Buf, n: number, seedHi: number, seedLo: number, counter: number, mean: number, std: number): void;
  fillF32(buf: Buf, n: number, value: number): void;
  castF32ToHalf(src: Buf, dst: Buf, n: number, bf16: boolean): void;
  castHalfToF32(src: Buf, dst: Buf, n: number, bf16: boolean): void;
  castF32ToI32(src: Buf, dst: Buf, n: number): void;
  castI32ToF32(src: Buf, dst: Buf, n: number): void;
  stridedCopy(src: Buf, offset: number, dst: Buf, shape: Ints, strides: Ints, elemBytes: number): void;
  stridedAssign(src: Buf, dst: Buf, offset: number, shape: Ints, strides: Ints, accumulate: boolean): void;
  sumTo(src: Buf, srcShape: Ints, dst: Buf, dstShape: Ints): void;
  axpy(dst: Buf, src: Buf, n: number, alpha: number): void;
  repeatRows(dst: Buf, row: Buf, rows: number, cols: number): void;
  // Further kernels are registered by their op families; see src/engine/ops.
  [kernel: string]: (...args: never[]) => unknown;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('peftjs: cannot locate the package root to load the native addon');
    dir = parent;
  }
  return dir;
}

function load(): NativeAddon {
  const root = packageRoot();
  const file = join(root, 'build', 'Release', 'peftjs_native.node');
  if (!existsSync(file)) {
    throw new Error(
      `peftjs: native addon not built (${file} is missing). Run \`npm run build:native\`; ` +
        'it needs g++, make, python3 and libdnnl-dev.',
    );
  }
  return withShortOpenMpSpin(() => createRequire(import.meta.url)(file) as NativeAddon);
}

/**
 * GNU OpenMP (loaded with the addon) makes an idle thread spin for up to 300,000 rounds before it sleeps. On a
 * machine whose cores other processes also want, a spinning thread takes the core from the one that has work, and
 * each parallel region's join then waits for a time slice: measured 2-4x slower steps at 2 threads under load. It
 * reads GOMP_SPINCOUNT once, when it is loaded, so a short spin is set for the load only (not passed on to child
 * processes), unless the user chose a spin or wait policy.
 */
function withShortOpenMpSpin<T>(load: () => T): T {
  const env = process.env;
  if (env.GOMP_SPINCOUNT !== undefined || env.OMP_WAIT_POLICY !== undefined) return load();
  env.GOMP_SPINCOUNT = '10000';
  try {
    return load();
  } finally {
    delete env.GOMP_SPINCOUNT;
  }
}

export const native: NativeAddon = load();
