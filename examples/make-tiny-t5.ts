// A tiny randomly initialised T5 (2 encoder and 2 decoder layers, d_model 128) for the seq2seq
// example: there are no pretrained T5 weights offline, so it is made on demand rather than shipped.
// It takes the tokenizer of models/tiny-llama with T5's post-processing — the end-of-sequence token
// (`<|end|>`) appended to every text — so that targets end in EOS and generation knows where to stop.
// Usage: node dist/examples/make-tiny-t5.js <output-dir> [tokenizer-dir]
import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTextAtomic } from '../src/io/atomic-write.js';
import { manualSeed } from '../src/engine/index.js';
import { AutoModelForSeq2SeqLM } from '../src/models/index.js';

const EOS = '<|end|>';
const PAD = '<|endoftext|>';

function t5Tokenizer(tokenizerDir: string, outputDir: string): { eos: number; pad: number; vocab: number } {
  const tokenizer = JSON.parse(readFileSync(join(tokenizerDir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  const added = tokenizer['added_tokens'] as { id: number; content: string }[];
  const idOf = (content: string): number => {
    const token = added.find((t) => t.content === content);
    if (token === undefined) throw new Error(`${tokenizerDir}/tokenizer.json has no added token ${content}`);
    return token.id;
  };
  const eos = idOf(EOS);
  tokenizer['post_processor'] = {
    type: 'TemplateProcessing',
    single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: EOS, type_id: 0 } }],
    pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: EOS, type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: EOS, type_id: 0 } }],
    special_tokens: { [EOS]: { id: EOS, ids: [eos], tokens: [EOS] } },
  };
  const vocab = Object.keys((tokenizer['model'] as { vocab: Record<string, number> }).vocab).length;
  writeTextAtomic(join(outputDir, 'tokenizer.json'), JSON.stringify(tokenizer));
  const config = { tokenizer_class: 'PreTrainedTokenizerFast', eos_token: EOS, pad_token: PAD, unk_token: null, model_max_length: 512, clean_up_tokenization_spaces: false };
  writeTextAtomic(join(outputDir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return { eos, pad: idOf(PAD), vocab: Math.max(vocab, ...added.map((t) => t.id + 1)) };
}

/** Writes the model (config.json + model.safetensors, seeded weights) and its tokenizer into `outputDir`. */
export function makeTinyT5(outputDir: string, tokenizerDir = 'models/tiny-llama', seed = 0): void {
  mkdirSync(outputDir, { recursive: true });
  const { eos, pad, vocab } = t5Tokenizer(tokenizerDir, outputDir);
  manualSeed(seed);
  const model = AutoModelForSeq2SeqLM.fromConfig({
    model_type: 't5', architectures: ['T5ForConditionalGeneration'], vocab_size: vocab,
    d_model: 128, d_kv: 32, d_ff: 256, num_layers: 2, num_decoder_layers: 2, num_heads: 4,
    relative_attention_num_buckets: 32, relative_attention_max_distance: 128, dropout_rate: 0.1,
    layer_norm_epsilon: 1e-6, initializer_factor: 1.0, feed_forward_proj: 'relu', is_encoder_decoder: true, tie_word_embeddings: true,
    pad_token_id: pad, eos_token_id: eos, decoder_start_token_id: pad,
  });
  model.savePretrained(outputDir);
  model.dispose();
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [outputDir, tokenizerDir] = process.argv.slice(2);
  if (outputDir === undefined) {
    console.error('usage: node dist/examples/make-tiny-t5.js <output-dir> [tokenizer-dir]');
    process.exit(2);
  }
  makeTinyT5(outputDir, tokenizerDir);
  console.log(`wrote a tiny random T5 to ${outputDir}`);
}
