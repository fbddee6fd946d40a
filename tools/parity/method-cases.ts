// Live parity cases for every method besides LoRA (METHODS below: prompt tuning, p-tuning, prefix tuning and each
// injected method, some in two configurations), each on a causal LM (GPT-2, Llama), BERT sequence classification and
// T5 seq2seq: the tiny base models of tests/fixtures/models, fixed inputs, and a config per method. LN tuning names
// BERT's LayerNorms, for which PEFT has no default targets; methods PEFT does not apply to GPT-2's Conv1D layers
// skip GPT-2; adaption prompts run on the causal LMs (GPT-2, Llama), whose attention PEFT adapts. FourierFT's spectral
// positions are not saved, nor are the bases of the regenerated RandLoRA case: Python draws them again from the seed. MiSS runs its three variants: balance (r 5 leaves a
// partial shard), mini and bat (the weight's r×r shards multiplied, on every linear layer). One more AdaLoRA case on Llama runs the whole rank
// allocation (SGD steps with updateAndAllocate), so that its adapter is saved with a rank_pattern. SHiRA (Linear only) runs
// with an unseeded and a seeded mask; its indices are saved with the weights.
import { fromArray } from '../../src/engine/ops/creation.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoModelForSequenceClassification, type AutoModelClass } from '../../src/models/auto.js';
import '../../src/models/index.js';
import type { ModelInputs } from '../../src/models/outputs.js';
import { noGrad } from '../../src/engine/autograd.js';
import type { PeftConfig } from '../../src/peft/config.js';
import type { PeftModel } from '../../src/peft/peft-model.js';
import { AdaLoraConfig } from '../../src/peft/tuners/adalora/config.js';
import { HRAConfig } from '../../src/peft/tuners/hra/config.js';
import { BOFTConfig } from '../../src/peft/tuners/boft/config.js';
import { IA3Config } from '../../src/peft/tuners/ia3/config.js';
import { LNTuningConfig } from '../../src/peft/tuners/ln-tuning/config.js';
import { LoHaConfig } from '../../src/peft/tuners/loha/config.js';
import { LoKrConfig } from '../../src/peft/tuners/lokr/config.js';
import { OFTConfig } from '../../src/peft/tuners/oft/config.js';
import { PromptEncoderConfig } from '../../src/peft/tuners/p-tuning/config.js';
import { PrefixTuningConfig } from '../../src/peft/tuners/prefix-tuning/config.js';
import { PromptTuningConfig } from '../../src/peft/tuners/prompt-tuning/config.js';
import { VeraConfig } from '../../src/peft/tuners/vera/config.js';
import { VBLoRAConfig } from '../../src/peft/tuners/vblora/config.js';
import { AdaptionPromptConfig } from '../../src/peft/tuners/adaption-prompt/config.js';
import { FourierFTConfig } from '../../src/peft/tuners/fourierft/config.js';
import { MissConfig } from '../../src/peft/tuners/miss/config.js';
import { RandLoraConfig } from '../../src/peft/tuners/randlora/config.js';
import { ShiraConfig } from '../../src/peft/tuners/shira/config.js';
import { TaskType } from '../../src/peft/utils/peft-types.js';

export interface MethodCase {
  name: string;
  /** Repository-relative base model folder (recorded as base_model_name_or_path). */
  base: string;
  auto: AutoModelClass;
  config: () => PeftConfig;
  /** Model inputs by their Python names (int32). */
  inputs: () => Record<string, Tensor>;
  /** Training before the adapter is saved, on the model inputs (with labels). */
  train?: (peft: PeftModel, inputs: ModelInputs) => void;
}

const ints = (rows: number[][]): Tensor => fromArray(rows.flat(), [rows.length, rows[0]!.length], 'int32');
const MASK = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]];

interface Model {
  key: string;
  base: string;
  auto: AutoModelClass;
  task: TaskType;
  inputs: () => Record<string, Tensor>;
}

const MODELS: Model[] = [
  { key: 'gpt2', base: 'gpt2-lm', auto: AutoModelForCausalLM, task: TaskType.CAUSAL_LM, inputs: () => ({ input_ids: ints([[5, 17, 33, 8, 61, 2], [44, 9, 12, 70, 0, 0]]), attention_mask: ints(MASK) }) },
  { key: 'llama', base: 'llama-lm', auto: AutoModelForCausalLM, task: TaskType.CAUSAL_LM, inputs: () => ({ input_ids: ints([[7, 21, 3, 88, 40, 11], [60, 2, 35, 19, 0, 0]]), attention_mask: ints(MASK) }) },
  {
    key: 'bert',
    base: 'bert-seqcls',
    auto: AutoModelForSequenceClassification,
    task: TaskType.SEQ_CLS,
    inputs: () => ({
      input_ids: ints([[2, 15, 30, 8, 61, 3], [2, 9, 12, 3, 0, 0]]),
      attention_mask: ints(MASK),
      token_type_ids: ints([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 0, 0]]),
    }),
  },
  {
    key: 't5',
    base: 't5-seq2seq',
    auto: AutoModelForSeq2SeqLM,
    task: TaskType.SEQ_2_SEQ_LM,
    inputs: () => ({ input_ids: ints([[13, 27, 8, 54, 9, 1], [40, 6, 22, 1, 0, 0]]), attention_mask: ints(MASK), decoder_input_ids: ints([[0, 31, 7, 19], [0, 12, 44, 1]]) }),
  },
];

const METHODS: { key: string; config: (taskType: TaskType) => PeftConfig; skip?: string[] }[] = [
  { key: 'prompt-tuning', config: (taskType) => new PromptTuningConfig({ taskType, numVirtualTokens: 3 }) },
  { key: 'p-tuning-mlp', config: (taskType) => new PromptEncoderConfig({ taskType, numVirtualTokens: 3, encoderHiddenSize: 16 }) },
  {
    key: 'p-tuning-lstm',
    config: (taskType) => new PromptEncoderConfig({ taskType, numVirtualTokens: 3, encoderReparameterizationType: 'LSTM', encoderHiddenSize: 8, encoderNumLayers: 2 }),
  },
  { key: 'prefix-tuning', config: (taskType) => new PrefixTuningConfig({ taskType, numVirtualTokens: 3 }) },
  { key: 'prefix-projection', config: (taskType) => new PrefixTuningConfig({ taskType, numVirtualTokens: 3, prefixProjection: true, encoderHiddenSize: 16 }) },
  { key: 'ia3', config: (taskType) => new IA3Config({ taskType }) },
  { key: 'adalora', config: (taskType) => new AdaLoraConfig({ taskType, initR: 4, targetR: 2, loraAlpha: 16, totalStep: 10 }) },
  { key: 'loha', config: (taskType) => new LoHaConfig({ taskType, r: 4, alpha: 6, rankPattern: { 'v|v_proj|value': 2 } }), skip: ['gpt2'] },
  {
    key: 'lokr',
    config: (taskType) => new LoKrConfig({ taskType, r: 2, alpha: 4, decomposeBoth: true, rankPattern: { 'q|q_proj|query': 8 } }),
    skip: ['gpt2'],
  },
  { key: 'vera', config: (taskType) => new VeraConfig({ taskType, r: 8 }) },
  { key: 'vera-regenerated', config: (taskType) => new VeraConfig({ taskType, r: 4, projectionPrngKey: -11, saveProjection: false }) },
  { key: 'oft', config: (taskType) => new OFTConfig({ taskType, oftBlockSize: 8, useCayleyNeumann: false }), skip: ['gpt2'] },
  {
    key: 'oft-neumann-coft',
    config: (taskType) => new OFTConfig({ taskType, r: 4, oftBlockSize: 0, blockShare: true, coft: true, eps: 0.5 }),
    skip: ['gpt2'],
  },
  { key: 'ln-tuning', config: (taskType) => new LNTuningConfig({ taskType, targetModules: taskType === TaskType.SEQ_CLS ? ['LayerNorm'] : null }) },
  { key: 'hra', config: (taskType) => new HRAConfig({ taskType, r: 4 }), skip: ['gpt2'] },
  { key: 'hra-gs', config: (taskType) => new HRAConfig({ taskType, r: 3, applyGS: true, initWeights: false }), skip: ['gpt2'] },
  { key: 'boft', config: (taskType) => new BOFTConfig({ taskType, boftBlockSize: 4 }), skip: ['gpt2'] },
  {
    key: 'boft-num-butterfly2',
    config: (taskType) =>
      new BOFTConfig({ taskType, boftBlockSize: 0, boftBlockNum: 2, boftNButterflyFactor: 2, boftDropout: 0.1, bias: 'boft_only', targetModules: 'all-linear' }),
    skip: ['gpt2'],
  },
  { key: 'vblora', config: (taskType) => new VBLoRAConfig({ taskType, r: 4, numVectors: 16, vectorLength: 8 }) },
  { key: 'vblora-topk', config: (taskType) => new VBLoRAConfig({ taskType, r: 2, numVectors: 300, vectorLength: 8, topk: 3, saveOnlyTopkWeights: true }) },
  { key: 'adaption-prompt', config: (taskType) => new AdaptionPromptConfig({ taskType, adapterLen: 3, adapterLayers: 2 }), skip: ['bert', 't5'] },
  { key: 'fourierft', config: (taskType) => new FourierFTConfig({ taskType, nFrequency: 100, scaling: 20 }) },
  {
    key: 'fourierft-pattern',
    config: (taskType) =>
      new FourierFTConfig({ taskType, nFrequency: 300, scaling: 8, randomLocSeed: -3, targetModules: 'all-linear', bias: 'fourier_only', nFrequencyPattern: { 'v|v_proj|value|c_attn': 40 }, initWeights: true }),
  },
  { key: 'miss', config: (taskType) => new MissConfig({ taskType, r: 5, missDropout: 0.1 }), skip: ['gpt2'] },
  { key: 'miss-mini', config: (taskType) => new MissConfig({ taskType, r: 4, miniR: 8, initWeights: 'mini', bias: 'MiSS_only' }), skip: ['gpt2'] },
  { key: 'miss-bat', config: (taskType) => new MissConfig({ taskType, r: 4, initWeights: 'bat', targetModules: 'all-linear' }), skip: ['gpt2'] },
  { key: 'randlora', config: (taskType) => new RandLoraConfig({ taskType, r: 8, randloraAlpha: 16 }) },
  {
    key: 'randlora-sparse-regenerated',
    config: (taskType) => new RandLoraConfig({ taskType, r: 4, randloraAlpha: 8, sparse: true, projectionPrngKey: -11, saveProjection: false }),
  },
  {
    key: 'randlora-very-sparse',
    config: (taskType) => new RandLoraConfig({ taskType, r: 6, randloraAlpha: 12, verySparse: true, targetModules: 'all-linear', bias: 'randlora_only' }),
  },
  { key: 'shira', config: (taskType) => new ShiraConfig({ taskType, r: 2 }), skip: ['gpt2'] },
  { key: 'shira-seeded', config: (taskType) => new ShiraConfig({ taskType, r: 3, randomSeed: -9, targetModules: 'all-linear' }), skip: ['gpt2'] },
];

const ALLOCATION_STEPS = 5;
const LEARNING_RATE = 0.05;

/** SGD steps, each followed by updateAndAllocate: the last one fixes the final rank_pattern. */
function allocate(peft: PeftModel, inputs: ModelInputs): void {
  const params = peft.namedParameters().filter(([, t]) => t.requiresGrad);
  for (let step = 1; step <= ALLOCATION_STEPS; step++) {
    peft.forward(inputs).loss!.backward();
    noGrad(() => {
      for (const [, t] of params) {
        const w = t.data();
        const g = t.grad!.data();
        for (let i = 0; i < w.length; i++) w[i] = w[i]! - LEARNING_RATE * g[i]!;
      }
    });
    peft.updateAndAllocate(step);
    for (const [, t] of params) t.zeroGrad();
  }
}

export function methodCases(): MethodCase[] {
  const cases: MethodCase[] = MODELS.flatMap((m) =>
    METHODS.filter((method) => !(method.skip ?? []).includes(m.key)).map((method) => ({
      name: `${m.key}-${method.key}`,
      base: `tests/fixtures/models/${m.base}`,
      auto: m.auto,
      config: () => method.config(m.task),
      inputs: m.inputs,
    })),
  );
  const llama = MODELS.find((m) => m.key === 'llama')!;
  cases.push({
    name: 'llama-adalora-allocated',
    base: `tests/fixtures/models/${llama.base}`,
    auto: llama.auto,
    config: () => new AdaLoraConfig({ taskType: llama.task, initR: 4, targetR: 2, tinit: 1, tfinal: 1, totalStep: ALLOCATION_STEPS, targetModules: ['q_proj', 'v_proj', 'up_proj'] }),
    inputs: llama.inputs,
    train: allocate,
  });
  return cases;
}
