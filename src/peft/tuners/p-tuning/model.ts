// PromptEncoder (PEFT's p_tuning/model.py): virtual-token embeddings passed through an MLP, or a bidirectional LSTM
// and an MLP. An adapter loaded for inference holds only the embedding, filled with the encoder's saved outputs.
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { Embedding } from '../../../nn/embedding.js';
import { Linear } from '../../../nn/linear.js';
import { LSTM } from '../../../nn/lstm.js';
import { ReLU, Sequential } from '../../../nn/sequential.js';
import { warn } from '../../utils/warnings.js';
import { BasePromptEncoder, preparedValue, totalVirtualTokens } from '../base-prompt-encoder.js';
import type { PromptEncoderConfig } from './config.js';

export class PromptEncoder extends BasePromptEncoder {
  readonly encoderType: PromptEncoderConfig['encoderReparameterizationType'];

  constructor(config: PromptEncoderConfig, options: { generator?: Generator } = {}) {
    super();
    const tokenDim = preparedValue(config, 'tokenDim', 'token_dim');
    const hidden = config.encoderHiddenSize ?? tokenDim;
    const gen = { generator: options.generator };
    this.encoderType = config.encoderReparameterizationType;
    this.registerModule('embedding', new Embedding(totalVirtualTokens(config), tokenDim, gen));
    if (config.inferenceMode) return;
    if (this.encoderType === 'LSTM') {
      const lstmOptions = { numLayers: config.encoderNumLayers, dropout: config.encoderDropout, bidirectional: true, ...gen };
      this.registerModule('lstm_head', new LSTM(tokenDim, hidden, lstmOptions));
      this.registerModule('mlp_head', new Sequential([new Linear(2 * hidden, 2 * hidden, gen), new ReLU(), new Linear(2 * hidden, tokenDim, gen)]));
      return;
    }
    if (config.encoderNumLayers !== 2) warn(`for MLP, the argument encoder_num_layers is ignored. Exactly 2 MLP layers are used.`);
    this.registerModule(
      'mlp_head',
      new Sequential([new Linear(tokenDim, hidden, gen), new ReLU(), new Linear(hidden, hidden, gen), new ReLU(), new Linear(hidden, tokenDim, gen)]),
    );
  }

  forward(indices: Tensor): Tensor {
    const embeds = this.embedding.forward(indices);
    const mlp = this.findChild<Sequential>('mlp_head');
    if (mlp === undefined) return embeds;
    const lstm = this.findChild<LSTM>('lstm_head');
    return mlp.forward(lstm === undefined ? embeds : lstm.forward(embeds));
  }
}
