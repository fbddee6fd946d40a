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
  allocatorStats(): [liveBlocks: number, cachedBytes: number];
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
  return createRequire(import.meta.url)(file) as NativeAddon;
}

export const native: NativeAddon = load();
