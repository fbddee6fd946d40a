// cos/sin tables for rotary position embedding, as transformers' LlamaRotaryEmbedding builds them:
// inverse frequencies theta^(-2i/dim) (optionally rescaled, 'linear' or 'llama3' rope_scaling),
// angles position * invFreq, and emb = cat(freqs, freqs). Every step is rounded to f32 where
// transformers computes in f32, so the tables agree with it even at large positions.
import { native } from '../../native/binding.js';
import { EngineError, ShapeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkInt, checkOptions } from './check.js';
import { fromArray } from './creation.js';

interface RotaryTableKernels {
  rotaryTable(positions: ArrayBuffer, count: number, invFreq: ArrayBuffer, half: number, cos: ArrayBuffer, sin: ArrayBuffer): void;
}

const kernels = native as unknown as RotaryTableKernels;

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number };

export interface RotaryOptions {
  /** The rotated head dim (even). */
  dim: number;
  /** Base wavelength (rope_theta); default 10000. */
  theta?: number;
  /** None when omitted or null (a config's rope_scaling is null for a model without scaling). */
  scaling?: RopeScaling | null;
}

const f32 = Math.fround;
const OP = 'rotaryCosSin';

function checkPositive(arg: string, value: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new EngineError(OP, arg, `must be a positive ${integer ? 'integer' : 'finite number'}, got ${value}`);
  }
  return value;
}

function llama3(invFreq: Float32Array, s: Extract<RopeScaling, { type: 'llama3' }>): void {
  const factor = f32(checkPositive('scaling.factor', s.factor));
  const low = checkPositive('scaling.lowFreqFactor', s.lowFreqFactor);
  const high = checkPositive('scaling.highFreqFactor', s.highFreqFactor);
  const context = checkPositive('scaling.originalMaxPositionEmbeddings', s.originalMaxPositionEmbeddings, true);
  if (high === low) throw new EngineError(OP, 'scaling.highFreqFactor', `must differ from lowFreqFactor (${low})`);
  const lowWavelen = f32(context / low);
  const highWavelen = f32(context / high);
  for (let i = 0; i < invFreq.length; i++) {
    const inv = invFreq[i]!;
    const wavelen = f32(f32(1 / inv) * f32(2 * Math.PI));
    const scaled = wavelen > lowWavelen ? f32(inv / factor) : inv;
    if (wavelen < highWavelen || wavelen > lowWavelen) {
      invFreq[i] = scaled;
      continue;
    }
    // Between the two wavelengths: interpolate between the scaled and the original frequency.
    const smooth = f32(f32(f32(f32(1 / wavelen) * f32(context)) - f32(low)) / f32(high - low));
    invFreq[i] = f32(f32(f32(f32(1 - smooth) * scaled) / factor) + f32(smooth * scaled));
  }
}

/** The dim/2 inverse frequencies of the rotation, after rope scaling. */
export function rotaryInvFreq(options: RotaryOptions): Float32Array {
  const { dim, theta: base, scaling } = checkOptions(OP, options, ['dim', 'theta', 'scaling'], true);
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 2 || dim % 2 !== 0) throw new ShapeError(OP, 'dim', `must be a positive even integer, got ${dim}`);
  const theta = f32(checkPositive('theta', base ?? 10000));
  const invFreq = new Float32Array(dim / 2);
  for (let i = 0; i < invFreq.length; i++) invFreq[i] = f32(1 / f32(Math.pow(theta, f32((2 * i) / dim))));
  if (scaling === undefined || scaling === null) return invFreq;
  if (typeof scaling !== 'object') throw new EngineError(OP, 'scaling', `must be an object with a type, got ${String(scaling)}`);
  if (scaling.type === 'linear') {
    const factor = f32(checkPositive('scaling.factor', scaling.factor));
    return invFreq.map((v) => f32(v / factor));
  }
  if (scaling.type === 'llama3') {
    llama3(invFreq, scaling);
    return invFreq;
  }
  throw new EngineError(OP, 'scaling.type', `must be 'linear' or 'llama3', got '${(scaling as { type: unknown }).type}'`);
}

/** cos and sin tables [T, dim] for int32 positions [T], or [B, T, dim] for positions [B, T]. */
export function rotaryCosSin(positions: Tensor, options: RotaryOptions): { cos: Tensor; sin: Tensor } {
  checkInt(OP, 'positions', positions);
  if (positions.ndim !== 1 && positions.ndim !== 2) {
    throw new ShapeError(OP, 'positions', `must be [seq] or [batch, seq], got ${formatShape(positions.shape)}`);
  }
  const invFreq = fromArray(rotaryInvFreq(options));
  const shape = [...positions.shape, 2 * invFreq.size];
  const cos = Tensor.empty(shape);
  const sin = Tensor.empty(shape);
  kernels.rotaryTable(positions.buffer, positions.size, invFreq.buffer, invFreq.size, cos.buffer, sin.buffer);
  invFreq.dispose();
  return { cos, sin };
}
