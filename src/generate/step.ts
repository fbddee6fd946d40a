// What the decoding loop hands the model at each step, and the bookkeeping behind it: the attention
// mask grows by a column of ones per step, and each row's positions count only its real (unmasked)
// tokens, as transformers derives position_ids from the attention mask (cumsum - 1, padding at 0).
import type { Tensor } from '../engine/tensor.js';

export interface StepInput {
  /** 0 for the prefill (the whole prompt), then 1, 2, … for one token per row. */
  step: number;
  batchSize: number;
  /** Tokens per row in inputIds: the prompt length at the prefill, then 1. */
  inputLength: number;
  /** [batchSize, inputLength] row-major: the (left-padded) prompt, then each row's last token. */
  inputIds: Int32Array;
  /** Positions processed by earlier steps (the KV cache length): 0, then prompt length + step - 1. */
  pastLength: number;
  /** [batchSize, pastLength + inputLength]: 1 for real tokens, 0 for padding. */
  attentionMask: Int32Array;
  /** [batchSize, inputLength]: the position of each input token in its row. */
  positionIds: Int32Array;
}

/**
 * One forward pass of the model: float32 logits [batchSize, vocab] for the last input position of
 * each row. The decoding loop takes ownership of the returned tensor (it processes it in place and
 * disposes it).
 */
export type StepFn = (input: StepInput) => Tensor | Promise<Tensor>;

export class StepInputs {
  private readonly nextPosition: Int32Array;
  private readonly promptLength: number;
  private step = 0;

  /** `promptIds` and `promptMask`: [batch, promptLength] row-major. */
  constructor(
    readonly batchSize: number,
    private readonly promptIds: Int32Array,
    private readonly promptMask: Int32Array,
  ) {
    this.promptLength = promptIds.length / batchSize;
    this.nextPosition = new Int32Array(batchSize);
  }

  /** The prompt, with positions counted from each row's first real token. */
  prefill(): StepInput {
    const { batchSize, promptLength: n } = this;
    const positionIds = new Int32Array(batchSize * n);
    for (let b = 0; b < batchSize; b++) {
      let seen = 0;
      for (let i = 0; i < n; i++) {
        seen += this.promptMask[b * n + i]!;
        positionIds[b * n + i] = this.promptMask[b * n + i] ? seen - 1 : 0;
      }
      this.nextPosition[b] = positionIds[b * n + n - 1]! + 1;
    }
    this.step = 1;
    return { step: 0, batchSize, inputLength: n, inputIds: this.promptIds, pastLength: 0, attentionMask: this.promptMask, positionIds };
  }

  /** One token per row after the prefill. */
  next(tokens: Int32Array): StepInput {
    const { batchSize, promptLength } = this;
    const pastLength = promptLength + this.step - 1;
    const total = pastLength + 1;
    const attentionMask = new Int32Array(batchSize * total).fill(1);
    for (let b = 0; b < batchSize; b++) attentionMask.set(this.promptMask.subarray(b * promptLength, (b + 1) * promptLength), b * total);
    const positionIds = this.nextPosition.slice();
    for (let b = 0; b < batchSize; b++) this.nextPosition[b] += 1;
    return { step: this.step++, batchSize, inputLength: 1, inputIds: tokens.slice(), pastLength, attentionMask, positionIds };
  }
}
