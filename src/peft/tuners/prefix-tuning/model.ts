// PrefixEncoder (PEFT's prefix_tuning/model.py): per virtual token, the keys and values of every layer
// (num_layers · 2 · token_dim values), stored directly or produced by embedding → Linear → tanh → Linear
// (prefix_projection). An adapter loaded for inference stores the projected values directly.
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { Embedding } from '../../../nn/embedding.js';
import { Linear } from '../../../nn/linear.js';
import { Sequential, Tanh } from '../../../nn/sequential.js';
import { BasePromptEncoder, preparedValue } from '../base-prompt-encoder.js';
import type { PrefixTuningConfig } from './config.js';

export class PrefixEncoder extends BasePromptEncoder {
  constructor(config: PrefixTuningConfig, options: { generator?: Generator } = {}) {
    super();
    const tokenDim = preparedValue(config, 'tokenDim', 'token_dim');
    const virtual = preparedValue(config, 'numVirtualTokens', 'num_virtual_tokens');
    const kvSize = preparedValue(config, 'numLayers', 'num_layers') * 2 * tokenDim;
    const gen = { generator: options.generator };
    const zero = config.initWeights === 'zero';
    if (config.prefixProjection && !config.inferenceMode) {
      const hidden = config.encoderHiddenSize ?? tokenDim;
      this.registerModule('embedding', new Embedding(virtual, tokenDim, gen));
      const last = new Linear(hidden, kvSize, gen);
      this.registerModule('transform', new Sequential([new Linear(tokenDim, hidden, gen), new Tanh(), last]));
      if (zero) for (const t of [last.weight, last.bias!]) t.data().fill(0);
    } else {
      const embedding = this.registerModule('embedding', new Embedding(virtual, kvSize, gen));
      if (zero) embedding.weight.data().fill(0);
    }
  }

  forward(indices: Tensor): Tensor {
    const embeds = this.embedding.forward(indices);
    const transform = this.findChild<Sequential>('transform');
    return transform === undefined ? embeds : transform.forward(embeds);
  }
}
