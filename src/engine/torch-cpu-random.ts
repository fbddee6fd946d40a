// The random stream of torch's CPU generator (`torch.Generator().manual_seed(seed)`: a 32-bit Mersenne Twister,
// mt19937), the values its `uniform_` draws for float32 tensors and the permutations its `randperm` draws, bit for
// bit. Only what reproduces tensors PEFT derives from a seed instead of saving them (VeRA's projections, FourierFT's
// spectral positions) needs this; everything else draws from the counter-based Generator of random.ts.
import { describeValue } from './dtype.js';
import { EngineError } from './errors.js';

const N = 624;
const M = 397;
/** From this size on torch's CPU randperm switches to another shuffle driven by 64-bit draws. */
const RANDPERM_32BIT_LIMIT = Math.floor((2 ** 32 - 1) / 20);

export class TorchCpuGenerator {
  private readonly state = new Uint32Array(N);
  private index = N;

  /** `seed`: any safe integer; torch keeps its low 32 bits (two's complement for negative seeds). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new EngineError('TorchCpuGenerator', 'seed', `must be a safe integer, got ${describeValue(seed)}`);
    const s = this.state;
    s[0] = ((seed % 2 ** 32) + 2 ** 32) % 2 ** 32;
    for (let i = 1; i < N; i++) s[i] = Math.imul(1812433253, s[i - 1]! ^ (s[i - 1]! >>> 30)) + i;
  }

  /** The next 32-bit output. */
  nextUint32(): number {
    const s = this.state;
    if (this.index >= N) {
      for (let k = 0; k < N; k++) {
        const y = (s[k]! & 0x80000000) | (s[(k + 1) % N]! & 0x7fffffff);
        s[k] = s[(k + M) % N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = s[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `count` float32 values as `torch.empty(count).uniform_(from, to, generator=…)` draws them, in order. */
  uniform(count: number, from: number, to: number): Float32Array {
    const lo = Math.fround(from);
    const span = Math.fround(Math.fround(to) - lo);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      // 24 random bits scaled into [0, 1). torch's kernel rounds x·span + lo once (a fused multiply-add), not after
      // the product: in doubles the product is exact and only the sum rounds before the store narrows it.
      const x = (this.nextUint32() & 0xffffff) * 2 ** -24;
      out[i] = x * span + lo;
    }
    return out;
  }

  /**
   * The first `count` entries of `torch.randperm(n, generator=…)`. Below RANDPERM_32BIT_LIMIT torch shuffles 0..n-1
   * forward, swapping entry i with entry i + (32-bit draw mod (n - i)) for i < n - 1; entries before i never move
   * again, so the first `count` need only `count` draws and the entries those swaps touched.
   */
  randperm(n: number, count = n): Int32Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new EngineError('TorchCpuGenerator.randperm', 'n', `must be a non-negative integer, got ${describeValue(n)}`);
    if (n >= RANDPERM_32BIT_LIMIT) throw new EngineError('TorchCpuGenerator.randperm', 'n', `must be below ${RANDPERM_32BIT_LIMIT} (torch shuffles larger ranges with 64-bit draws, which this does not reproduce), got ${n}`);
    if (!Number.isInteger(count) || count < 0 || count > n) throw new EngineError('TorchCpuGenerator.randperm', 'count', `must be an integer in [0, ${n}], got ${describeValue(count)}`);
    const moved = new Map<number, number>();
    const at = (i: number): number => moved.get(i) ?? i;
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      if (i < n - 1) {
        const j = i + (this.nextUint32() % (n - i));
        const vi = at(i);
        moved.set(i, at(j));
        moved.set(j, vi);
      }
      out[i] = at(i);
      moved.delete(i);
    }
    return out;
  }
}
