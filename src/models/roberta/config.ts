// RobertaConfig: BERT's fields; the pad token (also the position embeddings' padding row) defaults to 1.
import { BertConfig } from '../bert/config.js';

export class RobertaConfig extends BertConfig {
  protected static override readonly defaultPadTokenId: number = 1;
}
