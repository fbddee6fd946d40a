// Per-task evaluation: the loss of evaluationLoss plus the task's scores — perplexity for causal
// LMs; accuracy and macro F1 of the argmax class for sequence classification, and over the labelled
// tokens (labels other than -100: a word's first token) for token classification; SQuAD exact match
// and F1 of the best span (qa-spans.ts) per question; and, for seq2seq, the exact match of greedy
// generations with the targets.
import { argmax } from '../engine/ops/selection.js';
import type { Tensor } from '../engine/tensor.js';
import { generate } from '../generate/generate.js';
import type { GenerativeModel } from '../generate/target.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { IGNORE_INDEX, type Example } from '../train/data/example.js';
import type { QaFeature } from '../train/data/qa.js';
import { accuracy, macroF1 } from './classification-metrics.js';
import { EvaluationError } from './errors.js';
import { evaluationLoss, type EvalLoopOptions, type EvaluatedModel } from './loop.js';
import { bestAnswerSpan, type SpanOptions } from './qa-spans.js';
import { squadScores } from './squad.js';

export interface LossMetrics {
  loss: number;
}

export interface LanguageModelMetrics extends LossMetrics {
  perplexity: number;
}

export interface ClassificationMetrics extends LossMetrics {
  /** Fractions, 0–1. */
  accuracy: number;
  macroF1: number;
  /** How many predictions were scored (examples, or labelled tokens). */
  scored: number;
}

export interface QaMetrics extends LossMetrics {
  /** Percentages, 0–100. */
  exactMatch: number;
  f1: number;
}

export function evaluateCausalLm(model: EvaluatedModel, examples: readonly Example[], opts: EvalLoopOptions): LanguageModelMetrics {
  const loss = evaluationLoss(model, examples, opts);
  return { loss, perplexity: Math.exp(loss) };
}

/** The class with the largest logit at each position (the last axis). */
function predictedClasses(logits: Tensor | undefined, typeName: string): Int32Array {
  if (logits === undefined) throw new EvaluationError(`${typeName}.forward returned no logits`);
  const best = argmax(logits, -1);
  const classes = best.toArray() as Int32Array;
  best.dispose();
  return classes;
}

function classificationScores(loss: number, predicted: number[], gold: number[]): ClassificationMetrics {
  if (gold.length === 0) throw new EvaluationError('no labelled tokens to score');
  return { loss, accuracy: accuracy(predicted, gold), macroF1: macroF1(predicted, gold), scored: gold.length };
}

export function evaluateSequenceClassification(model: EvaluatedModel, examples: readonly Example[], opts: EvalLoopOptions): ClassificationMetrics {
  const predicted: number[] = [];
  const gold: number[] = [];
  const loss = evaluationLoss(model, examples, opts, (output, batch) => {
    predicted.push(...predictedClasses(output.logits, model.typeName));
    gold.push(...(batch.labels!.toArray() as Int32Array));
  });
  return classificationScores(loss, predicted, gold);
}

export function evaluateTokenClassification(model: EvaluatedModel, examples: readonly Example[], opts: EvalLoopOptions): ClassificationMetrics {
  const predicted: number[] = [];
  const gold: number[] = [];
  const loss = evaluationLoss(model, examples, opts, (output, batch) => {
    const best = predictedClasses(output.logits, model.typeName);
    const labels = batch.labels!.toArray() as Int32Array;
    if (labels.length !== best.length) throw new EvaluationError(`${model.typeName}: ${best.length} token predictions for ${labels.length} labels`);
    labels.forEach((label, i) => {
      if (label === IGNORE_INDEX) return;
      predicted.push(best[i]!);
      gold.push(label);
    });
  });
  return classificationScores(loss, predicted, gold);
}

/** A SQuAD record prepared for evaluation: its features and what the answer is checked against. */
export interface QaQuestion {
  context: string;
  /** The gold answer texts. */
  answers: string[];
  features: QaFeature[];
}

export function evaluateQuestionAnswering(model: EvaluatedModel, questions: readonly QaQuestion[], opts: EvalLoopOptions & SpanOptions): QaMetrics {
  const features = questions.flatMap((q) => q.features);
  const starts: Float32Array[] = [];
  const ends: Float32Array[] = [];
  const loss = evaluationLoss(model, features.map((f) => f.example), opts, (output, batch) => {
    const { startLogits, endLogits } = output;
    if (startLogits === undefined || endLogits === undefined) throw new EvaluationError(`${model.typeName}.forward returned no start/end logits`);
    const [rows, length] = batch.inputIds.shape as [number, number];
    const s = startLogits.toArray() as Float32Array;
    const e = endLogits.toArray() as Float32Array;
    for (let r = 0; r < rows; r++) {
      starts.push(s.slice(r * length, (r + 1) * length));
      ends.push(e.slice(r * length, (r + 1) * length));
    }
  });
  const predictions: string[] = [];
  let next = 0;
  for (const q of questions) {
    const logits = q.features.map((f) => ({ startLogits: starts[next]!, endLogits: ends[next++]!, contextOffsets: f.contextOffsets }));
    predictions.push(bestAnswerSpan(q.context, logits, opts)?.text ?? '');
  }
  const scored = questions.map((q, i) => ({ answers: q.answers, prediction: predictions[i]! })).filter((q) => q.answers.length > 0);
  if (scored.length === 0) throw new EvaluationError('no question has a gold answer to score');
  const { exactMatch, f1 } = squadScores(scored.map((q) => q.prediction), scored.map((q) => q.answers));
  return { loss, exactMatch, f1 };
}

export function evaluateSeq2Seq(model: EvaluatedModel, examples: readonly Example[], opts: EvalLoopOptions): LossMetrics {
  return { loss: evaluationLoss(model, examples, opts) };
}

export interface GenerationMatchOptions {
  tokenizer: Tokenizer;
  /** Default 64. */
  maxNewTokens?: number;
  /** Default 8. */
  batchSize?: number;
}

/** The percentage (0–100) of greedy generations from the examples' inputs that equal their targets (both trimmed). */
export async function generationExactMatch(model: GenerativeModel, inputs: readonly Int32Array[], targets: readonly string[], opts: GenerationMatchOptions): Promise<number> {
  if (inputs.length !== targets.length) throw new EvaluationError(`generationExactMatch: ${inputs.length} inputs for ${targets.length} targets`);
  if (inputs.length === 0) throw new EvaluationError('generationExactMatch: no examples');
  const size = opts.batchSize ?? 8;
  let same = 0;
  for (let i = 0; i < inputs.length; i += size) {
    const rows = inputs.slice(i, i + size).map((ids) => [...ids]);
    const result = await generate(model, { inputIds: rows }, { tokenizer: opts.tokenizer, maxNewTokens: opts.maxNewTokens ?? 64, doSample: false });
    result.text!.forEach((text, j) => {
      if (text.trim() === targets[i + j]!.trim()) same++;
    });
  }
  return (100 * same) / inputs.length;
}
