// Trainable tokens (PEFT's TrainableTokensLayer): new values for a few rows of an embedding matrix (or of a tied LM
// head's weight), kept as `trainable_tokens_delta.<adapter>` [n, dim] beside the frozen `base_layer`. Despite the
// name, the values replace the rows (they start as copies of them); the originals stay in the non-persistent
// buffer `trainable_tokens_original.<adapter>` so that a merge can be undone. The forward looks up the base rows
// and overwrites only the positions that hold a trained token, instead of copying the whole matrix.
import { record } from '../../../engine/autograd.js';
import { fromArray, randn, zeros } from '../../../engine/ops/creation.js';
import { embedding, indexSelect } from '../../../engine/ops/indexing.js';
import { linear } from '../../../engine/ops/linear.js';
import { Tensor } from '../../../engine/tensor.js';
import { BufferDict, ParameterDict } from '../../../nn/containers.js';
import { Embedding } from '../../../nn/embedding.js';
import { Linear } from '../../../nn/linear.js';
import { AdapterError, MergeError, UnsupportedError } from '../../errors.js';
import { BaseTunerLayer, type MergeOptions } from '../base-tuner-layer.js';
import { cloneTensor } from '../lora/low-rank.js';

/** Where trained rows go: source row `row` of `values` replaces target position `position`. */
interface Override {
  values: Tensor;
  positions: Int32Array;
  rows: Int32Array;
}

/**
 * y with some slices replaced by rows of the override tensors, in y's memory: rows of y (`axis` 'row', y [P, D]) or
 * columns (`axis` 'column', y [N, V], values [N, n]). Gradients: y's replaced slices get 0, each values tensor the
 * gradient of the slices it filled.
 */
function overrideSlices(y: Tensor, overrides: readonly Override[], axis: 'row' | 'column'): Tensor {
  const width = y.shape[y.ndim - 1]!;
  const rowsOfY = y.size / width;
  const out = y.view(y.shape);
  const o = out.data();
  for (const { values, positions, rows } of overrides) {
    const v = values.data();
    const n = values.shape[values.ndim - 1]!;
    positions.forEach((p, k) => {
      const src = rows[k]!;
      if (axis === 'row') o.set(v.subarray(src * width, (src + 1) * width), p * width);
      else for (let i = 0; i < rowsOfY; i++) o[i * width + p] = v[i * n + src]!;
    });
  }
  return record('overrideSlices', out, [y, ...overrides.map((x) => x.values)], (g, needs) => {
    const gd = g.data();
    const grads: (Tensor | null)[] = [null];
    for (const { values, positions, rows } of overrides) {
      const gv = zeros(values.shape);
      const d = gv.data();
      const n = values.shape[values.ndim - 1]!;
      positions.forEach((p, k) => {
        const dst = rows[k]!;
        if (axis === 'row') for (let c = 0; c < width; c++) d[dst * width + c]! += gd[p * width + c]!;
        else for (let i = 0; i < rowsOfY; i++) d[i * n + dst]! += gd[i * width + p]!;
      });
      grads.push(gv);
    }
    if (needs[0]) {
      const gy = cloneTensor(g);
      const gyd = gy.data();
      for (const { positions } of overrides) {
        for (const p of positions) {
          if (axis === 'row') gyd.fill(0, p * width, (p + 1) * width);
          else for (let i = 0; i < rowsOfY; i++) gyd[i * width + p] = 0;
        }
      }
      grads[0] = gy;
    }
    return grads;
  });
}

export class TrainableTokensLayer extends BaseTunerLayer {
  protected readonly adapterLayerNames = ['trainable_tokens_delta'] as const;
  readonly tokenIndices: Map<string, number[]>;

  constructor(
    base: Embedding | Linear,
    adapterName: string,
    key: string,
    /** The token adapter of the input embedding whose values a tied LM head shares. */
    readonly tiedAdapter: TrainableTokensLayer | null = null,
  ) {
    super(adapterName, key);
    this.registerModule('base_layer', base);
    if (tiedAdapter === null) {
      this.registerModule('trainable_tokens_delta', new ParameterDict());
      this.registerModule('trainable_tokens_original', new BufferDict(false));
      this.tokenIndices = new Map();
    } else {
      this.registerModule('trainable_tokens_delta', tiedAdapter.trainableTokensDelta);
      this.registerModule('trainable_tokens_original', tiedAdapter.trainableTokensOriginal);
      this.tokenIndices = tiedAdapter.tokenIndices;
    }
  }

  get trainableTokensDelta(): ParameterDict {
    return this.child('trainable_tokens_delta');
  }

  get trainableTokensOriginal(): BufferDict {
    return this.child('trainable_tokens_original');
  }

  private get weight(): Tensor {
    return this.getBaseLayer().parameter('weight')!;
  }

  /** Adds an adapter training the rows `tokenIndices`; initWeights false draws them at random instead of copying. */
  updateLayer(adapterName: string, tokenIndices: readonly number[], options: { initWeights?: boolean } = {}): void {
    if (this.tiedAdapter !== null) return;
    const W = this.weight;
    const [vocab, dim] = W.shape as [number, number];
    for (const i of tokenIndices) {
      if (!Number.isInteger(i) || i < 0 || i >= vocab) {
        throw new AdapterError(`${this.label}: trainable token index ${i} is outside the vocabulary [0, ${vocab})`);
      }
    }
    this.tokenIndices.set(adapterName, [...tokenIndices]);
    const originals = indexSelect(W.detach(), 0, fromArray(Int32Array.from(tokenIndices)));
    const values = options.initWeights === false ? randn([tokenIndices.length, dim]) : cloneTensor(originals);
    this.trainableTokensDelta.set(adapterName, values);
    this.trainableTokensOriginal.set(adapterName, originals);
  }

  protected forgetAdapter(name: string): void {
    this.trainableTokensOriginal.delete(name);
    this.tokenIndices.delete(name);
  }

  private checkDisjoint(adapters: readonly string[]): void {
    const seen = new Set<number>();
    for (const a of new Set([...this.mergedAdapters, ...adapters])) {
      for (const i of this.tokenIndices.get(a) ?? []) {
        if (seen.has(i)) throw new AdapterError(`${this.label}: token indices of adapter '${a}' overlap another adapter's; only disjoint indices are supported`);
        seen.add(i);
      }
    }
  }

  private writeRows(W: Tensor, adapter: string, values: Tensor): void {
    const w = W.data();
    const v = values.data();
    const dim = W.shape[1]!;
    this.tokenIndices.get(adapter)!.forEach((row, k) => w.set(v.subarray(k * dim, (k + 1) * dim), row * dim));
  }

  merge(options: MergeOptions = {}): void {
    const adapters = this.adaptersToMerge(options.adapterNames);
    if (adapters.length === 0) return;
    this.checkDisjoint(adapters);
    for (const adapter of adapters) {
      const values = this.trainableTokensDelta.get(adapter)!;
      if ((options.safeMerge ?? false) && !values.data().every(Number.isFinite)) {
        throw new MergeError(this.label, adapter, 'the trained token values hold NaN or infinite values; the adapter seems to be broken');
      }
      this.writeRows(this.weight, adapter, values);
      this.mergedAdapters.push(adapter);
    }
  }

  protected unmergeAdapter(adapter: string): void {
    this.writeRows(this.weight, adapter, this.trainableTokensOriginal.get(adapter)!);
  }

  /** The base weight with the adapters' rows written in (a copy; PEFT's get_merged_weights). */
  mergedWeight(adapters: readonly string[] = this.activeAdapters): Tensor {
    const W = cloneTensor(this.weight);
    for (const a of adapters) if (this.tokenIndices.has(a)) this.writeRows(W, a, this.trainableTokensDelta.get(a)!);
    return W;
  }

  forward(x: Tensor): Tensor {
    return this.forwardAdapters(x, this.activeAdapters);
  }

  forwardAdapters(x: Tensor, adapters: readonly string[]): Tensor {
    const base = this.getBaseLayer();
    const known = adapters.filter((a) => this.tokenIndices.has(a));
    if (this.disableAdapters || known.length === 0) {
      if (this.merged) this.unmerge();
      return (base as Embedding | Linear).forward(x);
    }
    if (this.merged) return (base as Embedding | Linear).forward(x);
    this.checkDisjoint(known);
    if (base instanceof Embedding) {
      const out = embedding(this.weight, x, base.paddingIdx === undefined ? {} : { paddingIdx: base.paddingIdx });
      const ids = x.data();
      const overrides = known.map((a) => {
        const rowOf = new Map(this.tokenIndices.get(a)!.map((t, k) => [t, k]));
        const positions: number[] = [];
        const rows: number[] = [];
        ids.forEach((id, p) => {
          const k = rowOf.get(id);
          if (k !== undefined) {
            positions.push(p);
            rows.push(k);
          }
        });
        return { values: this.trainableTokensDelta.get(a)!, positions: Int32Array.from(positions), rows: Int32Array.from(rows) };
      });
      return overrideSlices(out, overrides, 'row');
    }
    if (base instanceof Linear) {
      // A tied LM head: logits of the trained tokens come from their new rows.
      const out = linear(x, this.weight);
      const overrides = known.map((a) => {
        const indices = this.tokenIndices.get(a)!;
        return { values: linear(x, this.trainableTokensDelta.get(a)!), positions: Int32Array.from(indices), rows: Int32Array.from(indices, (_, k) => k) };
      });
      return overrideSlices(out, overrides, 'column');
    }
    throw new UnsupportedError(`${this.label}: trainable tokens wrap an Embedding or a Linear LM head, got ${base.typeName}`);
  }
}
