// RoBERTa (transformers' modeling_roberta): BERT's encoder under the `roberta` prefix with positions
// counted from padding_idx + 1 that skip padding tokens, a two-layer classification head and
// its own masked-LM head.
import { arange, fromArray, zeros } from '../../engine/ops/creation.js';
import { gelu } from '../../engine/ops/activation.js';
import { reshape } from '../../engine/ops/view.js';
import type { Tensor } from '../../engine/tensor.js';
import { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import { LayerNorm } from '../../nn/norm.js';
import { registerModelFamily } from '../auto.js';
import type { BertConfig } from '../bert/config.js';
import {
  BertEmbeddings,
  BertForQuestionAnswering,
  BertForTokenClassification,
  BertModel,
  BertPreTrainedModel,
  type EncoderSpec,
} from '../bert/modeling.js';
import type { ModelInputs, ModelOutput } from '../outputs.js';
import { ClassificationHead, sequenceClassifierOutput, tokenClassifierOutput } from '../shared/heads.js';
import { call, shareParameter } from '../shared/layers.js';
import { firstToken } from '../shared/pooling.js';
import { RobertaConfig } from './config.js';

class RobertaEmbeddings extends BertEmbeddings {
  private readonly paddingIdx: number;

  constructor(config: BertConfig) {
    super(config, { positionPaddingIdx: config.paddingIdx });
    this.paddingIdx = config.paddingIdx;
  }

  /**
   * From input ids: padding_idx + P + the running count of non-padding tokens (P cached positions),
   * and padding_idx itself on padding. From inputs_embeds (padding unknown): padding_idx + 1 … padding_idx + T.
   */
  protected override defaultPositionIds(inputs: ModelInputs, length: number, pastLength: number): Tensor {
    const pad = this.paddingIdx;
    if (inputs.inputIds === undefined) return reshape(arange(pad + 1, pad + 1 + length, { dtype: 'int32' }), [1, length]);
    const ids = inputs.inputIds.data();
    const positions = new Int32Array(ids.length);
    let count = 0;
    for (let i = 0; i < ids.length; i++) {
      if (i % length === 0) count = 0;
      if (ids[i] !== pad) count++;
      positions[i] = ids[i] === pad ? pad : pad + pastLength + count;
    }
    return fromArray(positions, inputs.inputIds.shape, 'int32');
  }
}

export class RobertaModel extends BertModel {
  static override get encoder(): EncoderSpec {
    return ROBERTA;
  }
}

export class RobertaForTokenClassification extends BertForTokenClassification {
  static override get encoder(): EncoderSpec {
    return ROBERTA;
  }
}

export class RobertaForQuestionAnswering extends BertForQuestionAnswering {
  static override get encoder(): EncoderSpec {
    return ROBERTA;
  }
}

export class RobertaForSequenceClassification extends BertPreTrainedModel {
  static override get encoder(): EncoderSpec {
    return ROBERTA;
  }

  constructor(config: BertConfig) {
    super(config);
    this.registerBackbone(false);
    this.registerModule('classifier', new ClassificationHead(config.hiddenSize, config.numLabels, config.classifierDropout));
  }

  forward(inputs: ModelInputs): ModelOutput {
    return sequenceClassifierOutput(call(this, 'classifier', firstToken(this.backbone(inputs).lastHiddenState!)), inputs, this.config);
  }
}

/** lm_head: dense → gelu → layer_norm → decoder, whose bias is lm_head.bias. */
class RobertaLMHead extends Module {
  constructor(config: BertConfig) {
    super();
    const e = config.hiddenSize;
    this.registerModule('dense', new Linear(e, e));
    this.registerModule('layer_norm', new LayerNorm(e, config.layerNormEps));
    const decoder = this.registerModule('decoder', new Linear(e, config.vocabSize));
    shareParameter(decoder, 'bias', this.registerParameter('bias', zeros([config.vocabSize]))!);
  }

  forward(hidden: Tensor): Tensor {
    return call(this, 'decoder', call(this, 'layer_norm', gelu(call(this, 'dense', hidden))));
  }
}

export class RobertaForMaskedLM extends BertPreTrainedModel {
  static override get encoder(): EncoderSpec {
    return ROBERTA;
  }

  constructor(config: BertConfig) {
    super(config);
    this.registerBackbone(false);
    this.registerModule('lm_head', new RobertaLMHead(config));
    if (config.tieWordEmbeddings) shareParameter(this.getOutputEmbeddings(), 'weight', this.getInputEmbeddings().weight);
  }

  override getOutputEmbeddings(): Linear {
    return this.getSubmodule('lm_head.decoder') as Linear;
  }

  forward(inputs: ModelInputs): ModelOutput {
    return tokenClassifierOutput(call(this, 'lm_head', this.backbone(inputs).lastHiddenState!), inputs);
  }
}

const ROBERTA: EncoderSpec = { prefix: 'roberta', config: RobertaConfig, backbone: RobertaModel, embeddings: RobertaEmbeddings };

registerModelFamily('roberta', {
  base: RobertaModel,
  sequenceClassification: RobertaForSequenceClassification,
  tokenClassification: RobertaForTokenClassification,
  questionAnswering: RobertaForQuestionAnswering,
  maskedLm: RobertaForMaskedLM,
});
