// A decoder-only generation against the model's positions (max_position_embeddings, GPT-2's
// n_positions): rows without real tokens and prompts the model has no positions for are refused; the
// default length (no maxNewTokens, no maxLength) stops at the last position, as transformers caps it;
// with learned positions, a prompt plus maxNewTokens that would run past them is refused (rotary
// models may generate past them, as in transformers).
import { DEFAULT_NEW_TOKENS, lengthLimits, type GenerationConfig } from './config.js';
import { GenerationConfigError, GenerationError } from './errors.js';
import type { CheckedPrompt } from './prompt.js';
import type { PreTrainedModel } from '../models/pretrained.js';

/** Model types whose positions are learned embeddings: generating past them is an error, not a degradation. */
const LEARNED_POSITIONS = new Set(['gpt2']);

const POSITION_KEYS = ['max_position_embeddings', 'n_positions'];

interface PositionLimit {
  count: number;
  /** The config.json key it comes from, for messages. */
  key: string;
}

function positionLimit(model: PreTrainedModel): PositionLimit | null {
  const count = (model.config as { maxPositionEmbeddings?: unknown }).maxPositionEmbeddings;
  if (typeof count !== 'number') return null;
  return { count, key: POSITION_KEYS.find((k) => k in model.config.raw) ?? POSITION_KEYS[0]! };
}

/** Real (attended) tokens per row. */
function rowLengths(prompt: CheckedPrompt): number[] {
  return Array.from({ length: prompt.batchSize }, (_, b) => prompt.mask.subarray(b * prompt.length, (b + 1) * prompt.length).reduce((n, v) => n + v, 0));
}

/**
 * Checks the prompt against the model's positions, `virtualTokens` (prompt learning) taking some of
 * them, and returns the length options that bound the generation: `maxLength` when the default length
 * is capped by the positions, else none.
 */
export function fitPositions(model: PreTrainedModel, prompt: CheckedPrompt, config: GenerationConfig, virtualTokens = 0): { maxLength?: number } {
  const lengths = rowLengths(prompt);
  const blank = lengths.indexOf(0);
  if (blank >= 0) throw new GenerationError(`generate: prompt ${blank} has no tokens with attention mask 1; give each prompt at least one real token`);
  const limit = positionLimit(model);
  if (limit === null) return {};
  const longest = Math.max(...lengths);
  const used = longest + virtualTokens;
  const virtual = virtualTokens > 0 ? ` + ${virtualTokens} virtual tokens` : '';
  const positions = `the model's ${limit.count} positions (${limit.key})`;
  if (used > limit.count) {
    throw new GenerationError(`generate: prompt ${lengths.indexOf(longest)} has ${longest} tokens${virtual}, more than ${positions}`);
  }
  if (config.maxNewTokens === null && config.maxLength === null) {
    const cap = limit.count - virtualTokens;
    if (prompt.length >= cap) throw new GenerationError(`generate: ${prompt.length} prompt tokens${virtual} fill ${positions}; none are left to generate`);
    return { maxLength: Math.min(prompt.length + DEFAULT_NEW_TOKENS, cap) };
  }
  const newTokens = lengthLimits(config, prompt.length).maxLength - prompt.length;
  if (LEARNED_POSITIONS.has(model.config.modelType) && used + newTokens - 1 > limit.count) {
    const [option, most] = config.maxNewTokens !== null ? ['maxNewTokens', limit.count - used + 1] : ['maxLength', prompt.length + limit.count - used + 1];
    throw new GenerationConfigError(
      option,
      `generation options: ${longest} prompt tokens${virtual} + ${newTokens} new tokens need ${used + newTokens - 1} positions; the model has ${limit.count} (${limit.key}): lower '${option}' to at most ${most}`,
    );
  }
  return {};
}
