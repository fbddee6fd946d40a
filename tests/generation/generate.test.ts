// generate() around the model: prompts as texts, chats, ragged id rows and tensors lead to the same
// tokens as the ids they encode to; the prompt runs once and then one token per step over the KV
// cache; streaming; seeded sampling; memory; and errors naming the option or input at fault.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromArray, Generator, manualSeed, Storage, type Tensor } from '../../src/engine/index.js';
import { decode, generate, generateStream, GenerationConfigError, GenerationError, type GenerateOptions } from '../../src/generate/index.js';
import { AutoModelForCausalLM, type ModelInputs, type PreTrainedModel } from '../../src/models/index.js';
import { cachedLength } from '../../src/models/shared/attention.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { LoraModel } from '../../src/peft/tuners/lora/model.js';
import { PromptTuningConfig } from '../../src/peft/tuners/prompt-tuning/config.js';
import { loadTokenizer, type ChatMessage, type Tokenizer } from '../../src/tokenizers/index.js';
import { fixturePath } from '../helpers/paths.js';

const tokenizer: Tokenizer = await loadTokenizer(fixturePath('tokenizers', 'byte-level-bpe'));
const POSITIONS = 64;

function tinyGpt2(): PreTrainedModel {
  manualSeed(3);
  const raw = { model_type: 'gpt2', vocab_size: 426, n_positions: POSITIONS, n_embd: 32, n_layer: 2, n_head: 4, pad_token_id: tokenizer.padTokenId };
  return AutoModelForCausalLM.fromConfig(raw).eval();
}

const model = tinyGpt2();
const greedy: GenerateOptions = { maxNewTokens: 6 };
const sequences = async (inputs: Parameters<typeof generate>[1], options: GenerateOptions = {}) => (await generate(model, inputs, { ...greedy, ...options })).sequences;

test('text prompts are encoded (special tokens added) and left-padded; the text of the tokens comes back', async () => {
  const texts = ['The quick brown fox', 'Hi'];
  const batch = tokenizer.encodeBatch(texts, { padding: true, paddingSide: 'left' });
  const result = await generate(model, texts, { ...greedy, tokenizer });
  assert.deepEqual(result.sequences, await sequences(batch));
  assert.deepEqual(result.text, result.tokens.map((t) => tokenizer.decode(t, { skipSpecialTokens: true })));
  assert.deepEqual(await sequences('Hi', { tokenizer }), await sequences([tokenizer.encode('Hi')]));
});

test('chat prompts are rendered with the chat template and a generation prompt', async () => {
  const chat: ChatMessage[] = [{ role: 'user', content: 'Say hello' }];
  const ids = tokenizer.applyChatTemplate(chat, { addGenerationPrompt: true });
  assert.deepEqual(await sequences(chat, { tokenizer }), await sequences([ids]));
  const other: ChatMessage[] = [{ role: 'system', content: 'Be brief' }, { role: 'user', content: 'Why?' }];
  const both = await sequences([chat, other], { tokenizer });
  assert.deepEqual(both[0]!.slice(-(ids.length + 6)), [...ids, ...(await sequences([ids]))[0]!.slice(ids.length)]);
  const plain = tokenizer.applyChatTemplate(chat, { addGenerationPrompt: false });
  assert.deepEqual(await sequences(chat, { tokenizer, chat: { addGenerationPrompt: false } }), await sequences([plain]));
});

test('ragged id rows are left-padded with a mask; int32 tensors are prompts too', async () => {
  const pad = tokenizer.padTokenId!;
  const padded = { inputIds: [[45, 46, 47], [pad, pad, 48]], attentionMask: [[1, 1, 1], [0, 0, 1]] };
  assert.deepEqual(await sequences([[45, 46, 47], [48]]), await sequences(padded));
  assert.deepEqual(await sequences(fromArray(new Int32Array([45, 46, 47]), [1, 3])), await sequences([45, 46, 47]));
  assert.deepEqual(await sequences({ inputIds: fromArray(new Int32Array([45, 46, 47, pad, pad, 48]), [2, 3]), attentionMask: padded.attentionMask }), await sequences(padded));
});

test('the prompt runs once, then one token per row and step over the cache, preallocated after the prompt', async () => {
  const seen: { ids: number[]; mask: number[]; positions: number[]; past: number }[] = [];
  const buffers = new Set<Tensor>();
  const spied = tinyGpt2();
  const forward = spied.forward.bind(spied);
  spied.forward = (inputs: ModelInputs) => {
    seen.push({
      ids: [...inputs.inputIds!.shape],
      mask: [...inputs.attentionMask!.shape],
      positions: Array.from(inputs.positionIds!.data()),
      past: cachedLength(inputs.pastKeyValues?.[0]),
    });
    if (inputs.pastKeyValues !== undefined) buffers.add(inputs.pastKeyValues[0]!.key);
    return forward(inputs);
  };
  const out = await generate(spied, [[45, 46, 47], [48]], { maxNewTokens: 4 });
  assert.deepEqual(out.sequences, await sequences([[45, 46, 47], [48]], { maxNewTokens: 4 }));
  assert.deepEqual(seen, [
    { ids: [2, 3], mask: [2, 3], positions: [0, 1, 2, 0, 0, 0], past: 0 },
    { ids: [2, 1], mask: [2, 4], positions: [3, 1], past: 3 },
    { ids: [2, 1], mask: [2, 5], positions: [4, 2], past: 4 },
    { ids: [2, 1], mask: [2, 6], positions: [5, 3], past: 5 },
  ]);
  assert.equal(buffers.size, 1, 'one cache buffer, written in place');
  assert.deepEqual([...buffers][0]!.shape, [2, 4, 7, 8], 'room for the prompt and the new tokens');
});

test('streaming yields each token and the text as it becomes final', async () => {
  const options = { maxNewTokens: 8, tokenizer };
  const stream = generateStream(model, ['Hello', 'A longer prompt'], options);
  const tokens: number[][] = [[], []];
  const text = ['', ''];
  for (;;) {
    const r = await stream.next();
    if (r.done) {
      assert.deepEqual(tokens, r.value.tokens);
      assert.deepEqual(text, r.value.text);
      assert.deepEqual(r.value.sequences, await sequences(['Hello', 'A longer prompt'], options));
      return;
    }
    r.value.tokenIds.forEach((t, b) => tokens[b]!.push(...t));
    r.value.text!.forEach((t, b) => (text[b] += t));
  }
});

test('sampling with a seeded generator is reproducible', async () => {
  const sample = (seed: number) => sequences([[45, 46, 47], [48]], { doSample: true, maxNewTokens: 12, generator: new Generator(seed) });
  const first = await sample(42);
  assert.deepEqual(await sample(42), first);
  assert.notDeepEqual(await sample(43), first);
});

test('the cache is freed after generation, also when a stream is abandoned', async () => {
  await sequences([[45, 46, 47]]);
  const live = Storage.liveCount;
  await sequences([[45, 46, 47], [48]]);
  assert.equal(Storage.liveCount, live);
  const stream = generateStream(model, [[45, 46, 47]], { maxNewTokens: 10 });
  await stream.next();
  await stream.next();
  await stream.return(undefined as never);
  assert.equal(Storage.liveCount, live);
});

/** Asserts that fn rejects with an error of `type` (naming `option` for GenerationConfigErrors) whose message matches. */
async function rejects(fn: () => Promise<unknown>, type: typeof GenerationError | typeof GenerationConfigError, message: RegExp, option?: string): Promise<void> {
  await assert.rejects(fn, (e: unknown) => {
    assert.ok(e instanceof type, `expected a ${type.name}, got ${String(e)}`);
    assert.match((e as Error).message, message);
    if (option !== undefined) assert.equal((e as GenerationConfigError).option, option);
    return true;
  });
}

test('bad prompts are refused before the model runs', async () => {
  await rejects(() => generate(model, []), GenerationError, /non-empty list of prompts/);
  await rejects(() => generate(model, [[45], []]), GenerationError, /prompt 1 is empty/);
  await rejects(() => generate(model, ['Hi', ''], { tokenizer }), GenerationError, /prompt 1 is an empty string/);
  await rejects(() => generate(model, { inputIds: [[45, 46], [47, 48]], attentionMask: [[1, 1], [0, 0]] }), GenerationError, /prompt 1 has no tokens with attention mask 1/);
  await rejects(() => generate(model, 'hello'), GenerationConfigError, /need a 'tokenizer'/, 'tokenizer');
  await rejects(() => generate(model, fromArray([1, 2]), greedy), GenerationError, /must be int32/);
});

test("prompts and generations must fit the model's positions (GPT-2: n_positions)", async () => {
  await rejects(() => generate(model, [[45], new Array<number>(POSITIONS + 1).fill(45)]), GenerationError, /prompt 1 has 65 tokens, more than the model's 64 positions \(n_positions\)/);
  await rejects(() => generate(model, [new Array<number>(60).fill(45)], { maxNewTokens: 10 }), GenerationConfigError, /60 prompt tokens \+ 10 new tokens need 69 positions; the model has 64 \(n_positions\): lower 'maxNewTokens' to at most 5/, 'maxNewTokens');
  assert.equal((await generate(model, [new Array<number>(60).fill(45)], { maxNewTokens: 5 })).tokens[0]!.length, 5);
  await rejects(() => generate(model, [new Array<number>(60).fill(45)], { maxLength: 70 }), GenerationConfigError, /lower 'maxLength' to at most 65/, 'maxLength');
  assert.equal((await generate(model, [new Array<number>(60).fill(45)], { maxLength: 65 })).tokens[0]!.length, 5);
  // Without maxNewTokens or maxLength transformers generates 20 tokens, at most up to the last position.
  const capped = await generate(model, [new Array<number>(60).fill(45)]);
  assert.deepEqual([capped.tokens[0]!.length, capped.finishReasons[0]], [4, 'length']);
  assert.equal((await generate(model, [[45, 46]])).tokens[0]!.length, 20);
  await rejects(() => generate(model, [new Array<number>(POSITIONS).fill(45)]), GenerationError, /64 prompt tokens fill the model's 64 positions \(n_positions\); none are left/);
  // Prompt learning: the virtual tokens take positions before the prompt.
  const prompted = getPeftModel(tinyGpt2(), new PromptTuningConfig({ taskType: 'CAUSAL_LM', numVirtualTokens: 8 })).eval();
  await rejects(() => generate(prompted, [new Array<number>(60).fill(45)], { maxNewTokens: 1 }), GenerationError, /prompt 0 has 60 tokens \+ 8 virtual tokens, more than the model's 64 positions/);
  assert.equal((await generate(prompted, [new Array<number>(50).fill(45)])).tokens[0]!.length, 6);
});

test('adapterNames: one known adapter per prompt, on a model with adapters', async () => {
  const lora = new LoraModel(tinyGpt2(), new LoraConfig({ r: 2, targetModules: ['c_attn'] }), 'one').eval();
  await rejects(() => generate(lora, [[45], [46]], { ...greedy, adapterNames: ['one', 'two'] }), GenerationConfigError, /unknown adapter\(s\) two \(known: one, __base__\)/, 'adapterNames');
  await rejects(() => generate(lora, [[45], [46]], { ...greedy, adapterNames: ['one'] }), GenerationConfigError, /one adapter name per prompt \(2\)/, 'adapterNames');
  await rejects(() => generate(model, [[45]], { ...greedy, adapterNames: ['one'] }), GenerationConfigError, /needs a model with LoRA adapters/, 'adapterNames');
  await rejects(() => generate(lora, [[45]], { ...greedy, adapterNames: ['two'] }), GenerationError, /unknown adapter\(s\) two/);
  const out = await generate(lora, [[45], [46]], { ...greedy, adapterNames: ['one', '__base__'] });
  assert.equal(out.sequences.length, 2);
});

test('a huge maxNewTokens allocates nothing up front: the cache and the token history grow with the rows', async () => {
  manualSeed(5);
  const raw = { model_type: 'llama', vocab_size: 426, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 256 };
  const llama = AutoModelForCausalLM.fromConfig(raw).eval();
  const prompt = [45, 46, 47];
  // One token per call from the growing prompt (no cache past the prefill), the draws of one generator.
  const reference = [...prompt];
  const sampling = (seed: number) => ({ doSample: true, topK: 0, generator: new Generator(seed) });
  const draws = sampling(7);
  for (let i = 0; i < 140; i++) reference.push((await generate(llama, [reference], { maxNewTokens: 1, ...draws })).tokens[0]![0]!);
  // EOS: a token the reference first generates past the cache's first 64 positions.
  const stopAt = reference.findIndex((id, i) => i > 70 && reference.indexOf(id) === i);
  assert.ok(stopAt > 0);
  const positions = new Set<number>();
  const forward = llama.forward.bind(llama);
  llama.forward = (inputs: ModelInputs) => {
    if (inputs.pastKeyValues !== undefined) positions.add(inputs.pastKeyValues[0]!.key.shape[2]!);
    return forward(inputs);
  };
  const out = await generate(llama, [prompt], { maxNewTokens: 1e12, eosTokenId: reference[stopAt]!, ...sampling(7) });
  assert.deepEqual(out.sequences, [reference.slice(0, stopAt + 1)]);
  assert.equal(out.finishReasons[0], 'eos');
  assert.ok(Math.max(...positions) <= 2 * stopAt, `cache buffers of ${[...positions].join(', ')} positions for ${stopAt + 1} tokens`);
});

test('malformed inputIds and options are refused naming them', async () => {
  await rejects(() => generate(model, { inputIds: null as never }), GenerationError, /inputIds must be a non-empty list of rows of token ids/);
  await rejects(() => generate(model, { inputIds: [45, 46] as never }), GenerationError, /prompt 0 must be an array of token ids, got number/);
  await rejects(() => generate(model, [[45]], null as never), GenerationConfigError, /^generate: options must be an object, got null/, 'options');
  await rejects(() => decode(() => fromArray([0]), { inputIds: [[45]] }, null as never), GenerationConfigError, /^decode: options must be an object/, 'options');
  const bad: [GenerateOptions, string, RegExp][] = [
    [{ doSample: true, generator: {} as never }, 'generator', /'generator' must be a Generator/],
    [{ tokenizer: null as never }, 'tokenizer', /'tokenizer' must be a Tokenizer/],
    [{ skipSpecialTokens: 'no' as never }, 'skipSpecialTokens', /'skipSpecialTokens' must be true or false, got "no"/],
    [{ trimStopStrings: 1 as never }, 'trimStopStrings', /'trimStopStrings' must be true or false, got 1/],
    [{ addSpecialTokens: 'x' as never }, 'addSpecialTokens', /'addSpecialTokens' must be true or false/],
  ];
  for (const [options, option, message] of bad) await rejects(() => generate(model, [[45]], { ...greedy, ...options }), GenerationConfigError, message, option);
  assert.equal((await generate(model, [[45]], { ...greedy, doSample: true, generator: null as never })).tokens[0]!.length, 6, 'null: the default generator');
});
