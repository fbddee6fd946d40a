// Evaluation: task scores (accuracy, macro F1, SQuAD exact match / F1, perplexity), run_qa's answer
// span decoding, and evaluation passes over a model that `peftjs eval` runs.
export { accuracy, macroF1 } from './classification-metrics.js';
export { normalizeAnswer, exactMatchScore, f1Score, squadScores } from './squad.js';
export type { SquadScores } from './squad.js';
export { bestAnswerSpan } from './qa-spans.js';
export type { AnswerSpan, QaFeatureLogits, SpanOptions } from './qa-spans.js';
export { EvaluationError } from './errors.js';
export { evaluationLoss } from './loop.js';
export type { EvalLoopOptions, EvaluatedModel } from './loop.js';
export {
  evaluateCausalLm, evaluateSequenceClassification, evaluateTokenClassification, evaluateQuestionAnswering, evaluateSeq2Seq, generationExactMatch,
} from './tasks.js';
export type { ClassificationMetrics, GenerationMatchOptions, LanguageModelMetrics, LossMetrics, QaMetrics, QaQuestion } from './tasks.js';
