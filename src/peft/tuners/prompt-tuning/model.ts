// PromptEmbedding (PEFT's prompt_tuning/model.py): one trainable vector per virtual token, started at random, from
// random rows of the model's word embeddings (SAMPLE_VOCAB) or from the embeddings of an init text (TEXT).
import { rand } from '../../../engine/ops/creation.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { Embedding } from '../../../nn/embedding.js';
import type { Tokenizer } from '../../../tokenizers/tokenizer.js';
import { ConfigError } from '../../errors.js';
import { BasePromptEncoder, preparedValue, totalVirtualTokens } from '../base-prompt-encoder.js';
import { PromptTuningInit, type PromptTuningConfig } from './config.js';

export interface PromptEmbeddingOptions {
  /** TEXT init: the tokenizer named by config.tokenizerNameOrPath (e.g. from loadTokenizer). */
  tokenizer?: Tokenizer;
  /** Random stream for RANDOM and SAMPLE_VOCAB init. */
  generator?: Generator;
}

/** TEXT init: the text's token ids (special tokens included), repeated or cut to `total`. */
export function initTextTokenIds(tokenizer: Tokenizer, text: string, total: number): number[] {
  const ids = tokenizer.encode(text);
  if (ids.length === 0) throw new ConfigError('prompt_tuning_init_text', `gives no tokens with tokenizer ${JSON.stringify(tokenizer.name)}`);
  return Array.from({ length: total }, (_, i) => ids[i % ids.length]!);
}

export class PromptEmbedding extends BasePromptEncoder {
  constructor(config: PromptTuningConfig, wordEmbeddings: Embedding, options: PromptEmbeddingOptions = {}) {
    super();
    const total = totalVirtualTokens(config);
    const dim = preparedValue(config, 'tokenDim', 'token_dim');
    const embedding = this.registerModule('embedding', new Embedding(total, dim, { generator: options.generator }));
    if (config.inferenceMode) return;
    let ids: number[] | null = null;
    if (config.promptTuningInit === PromptTuningInit.SAMPLE_VOCAB) {
      ids = Array.from(rand([total], { low: 0, high: wordEmbeddings.numEmbeddings, generator: options.generator }).data(), Math.floor);
    } else if (config.promptTuningInit === PromptTuningInit.TEXT) {
      if (options.tokenizer === undefined) {
        throw new ConfigError('tokenizer_name_or_path', `is ${JSON.stringify(config.tokenizerNameOrPath)}: TEXT init needs that tokenizer passed as the tokenizer option (await loadTokenizer(...))`);
      }
      ids = initTextTokenIds(options.tokenizer, config.promptTuningInitText!, total);
    }
    if (ids === null) return;
    const table = wordEmbeddings.weight.toArray();
    const rows = embedding.weight.data();
    ids.forEach((id, i) => {
      if (id >= wordEmbeddings.numEmbeddings) throw new ConfigError('prompt_tuning_init_text', `gives token id ${id}, outside the model's ${wordEmbeddings.numEmbeddings} word embeddings`);
      rows.set(table.subarray(id * dim, (id + 1) * dim), i * dim);
    });
  }

  forward(indices: Tensor): Tensor {
    return this.embedding.forward(indices);
  }
}
