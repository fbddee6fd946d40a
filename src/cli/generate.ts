// `peftjs generate`: text from a causal LM or seq2seq model folder, with or without PEFT adapters
// (one or several, one active, optionally merged), through src/generate's generate(): the model's
// generation_config.json gives the defaults, the options below override them.
import { basename } from 'node:path';
import { Generator } from '../engine/random.js';
import { generateStream, GenerationConfigError, resolveGenerationConfig, type DecodingResult, type GenerateOptions, type GenerationOptions, type GenerativeModel } from '../generate/index.js';
import { resolveModelFolder } from '../io/model-folder.js';
import { AutoModelForCausalLM, AutoModelForSeq2SeqLM, PreTrainedModel, supportedModelTypes, type AutoModelClass } from '../models/index.js';
import { PeftModel } from '../peft/peft-model.js';
import { loadTokenizer } from '../tokenizers/index.js';
import { CliError, type Options, type VerbSpec } from './args.js';
import { asChats, promptLabel, readPrompts, type CliPrompt } from './prompts.js';

export const generateVerb: VerbSpec = {
  name: 'generate',
  summary: 'Generate text from a causal LM or seq2seq model, with or without PEFT adapters.',
  usage: 'generate --model <dir> (--prompt <text> | --prompts <file>) [--adapter <dir>] [options]',
  options: [
    { name: 'model', type: 'string', placeholder: 'dir', description: 'model folder (causal LM or seq2seq, by config.json)', required: true },
    { name: 'tokenizer', type: 'string', placeholder: 'dir', description: 'tokenizer folder (default: the model folder)' },
    { name: 'adapter', type: 'list', placeholder: '[name=]dir', description: 'PEFT adapter folder, repeatable or comma-separated; named after its folder unless name= is given' },
    { name: 'adapter-name', type: 'string', placeholder: 'name', description: 'the adapter to use (default: the first)' },
    { name: 'merge', type: 'boolean', description: 'merge the adapter into the weights before generating' },
    { name: 'prompt', type: 'strings', placeholder: 'text', description: 'a prompt; repeatable' },
    { name: 'prompts', type: 'string', placeholder: 'file', description: '.txt (one prompt per line) or .jsonl ({prompt} or {messages} per line)' },
    { name: 'chat', type: 'boolean', description: "render each prompt as a user message with the tokenizer's chat template" },
    { name: 'max-new-tokens', type: 'number', description: 'tokens to generate at most (default: generation_config.json, else 20)' },
    { name: 'do-sample', type: 'boolean', description: 'sample instead of greedy decoding' },
    { name: 'temperature', type: 'number', description: 'sampling temperature' },
    { name: 'top-k', type: 'number', description: 'sampling: keep the k most likely tokens' },
    { name: 'top-p', type: 'number', description: 'sampling: nucleus probability' },
    { name: 'repetition-penalty', type: 'number', description: 'penalty > 1 for tokens already in the sequence' },
    { name: 'stop', type: 'strings', placeholder: 'text', description: 'stop a completion at this string (left out of the text); repeatable' },
    { name: 'seed', type: 'number', description: 'seed of the sampling random numbers' },
    { name: 'batch-size', type: 'number', description: 'prompts generated together (default 1)' },
    { name: 'stream', type: 'boolean', description: 'print the tokens as they come (default: on a terminal, without --json)' },
    { name: 'json', type: 'boolean', description: 'print one JSON line per prompt: {prompt, completion, tokens, finishReason}' },
  ],
};

/** The command-line flags of the generation options, for messages. */
const FLAG_OF_OPTION: Readonly<Record<string, string>> = {
  maxNewTokens: 'max-new-tokens',
  doSample: 'do-sample',
  temperature: 'temperature',
  topK: 'top-k',
  topP: 'top-p',
  repetitionPenalty: 'repetition-penalty',
  stopStrings: 'stop',
};

/** The generation options given on the command line, checked before anything is loaded. */
function generationOptions(opts: Options): GenerationOptions {
  const options: Record<string, unknown> = {};
  for (const [option, flag] of Object.entries(FLAG_OF_OPTION)) {
    if (opts.has(flag)) options[option] = flag === 'stop' ? opts.list(flag) : flag === 'do-sample' ? opts.boolean(flag) : opts.number(flag);
  }
  try {
    resolveGenerationConfig(options);
  } catch (e) {
    if (e instanceof GenerationConfigError && e.option in FLAG_OF_OPTION) throw new CliError(`--${FLAG_OF_OPTION[e.option]}: ${e.message}`);
    throw e;
  }
  return options;
}

/** The --seed generator, checked before anything is loaded. */
function seededGenerator(opts: Options): Generator | undefined {
  const seed = opts.nonNegativeInteger('seed');
  return seed === undefined ? undefined : new Generator(seed);
}

interface AdapterSource {
  name: string;
  path: string;
}

/** The --adapter values as names and paths, and the active adapter's name. */
function adapterSources(opts: Options): { sources: AdapterSource[]; active: string | null } {
  const sources = (opts.list('adapter') ?? []).map((value): AdapterSource => {
    const eq = value.indexOf('=');
    const named = eq > 0 && !/[/\\]/.test(value.slice(0, eq));
    return named ? { name: value.slice(0, eq), path: value.slice(eq + 1) } : { name: basename(value.replace(/[/\\]+$/, '')), path: value };
  });
  const names = sources.map((s) => s.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw new CliError(`--adapter: two adapters are named ${JSON.stringify(duplicate)}; name them with name=dir`);
  const wanted = opts.string('adapter-name');
  if (sources.length === 0) {
    if (wanted !== undefined) throw new CliError('--adapter-name needs --adapter');
    if (opts.boolean('merge') === true) throw new CliError('--merge needs --adapter');
    return { sources, active: null };
  }
  if (wanted !== undefined && !names.includes(wanted)) throw new CliError(`--adapter-name: no adapter named ${JSON.stringify(wanted)} (adapters: ${names.join(', ')})`);
  return { sources, active: wanted ?? names[0]! };
}

/** AutoModelForCausalLM, else AutoModelForSeq2SeqLM, by the folder's model_type. */
async function languageModelClass(modelDir: string): Promise<AutoModelClass> {
  const folder = await resolveModelFolder(modelDir);
  const type = folder.config['model_type'];
  const causal = supportedModelTypes('causalLm');
  const seq2seq = supportedModelTypes('seq2seqLm');
  if (typeof type === 'string' && causal.includes(type)) return AutoModelForCausalLM;
  if (typeof type === 'string' && seq2seq.includes(type)) return AutoModelForSeq2SeqLM;
  throw new CliError(`--model: ${folder.configPath} has model_type ${JSON.stringify(type)}, which has no language model class (causal LM: ${causal.join(', ')}; seq2seq LM: ${seq2seq.join(', ')})`);
}

async function loadModel(modelDir: string, adapters: { sources: AdapterSource[]; active: string | null }, merge: boolean): Promise<GenerativeModel> {
  const base = await (await languageModelClass(modelDir)).fromPretrained(modelDir);
  const [first, ...rest] = adapters.sources;
  if (first === undefined) return base;
  const peft = await PeftModel.fromPretrained(base, first.path, { adapterName: first.name });
  for (const s of rest) await peft.loadAdapter(s.path, s.name);
  peft.setAdapter(adapters.active!, { inferenceMode: true });
  if (!merge) return peft;
  const merged = peft.mergeAndUnload();
  if (!(merged instanceof PreTrainedModel)) throw new CliError(`--merge: ${modelDir} did not load as a transformers model`);
  return merged;
}

function isTerminal(out: NodeJS.WritableStream): boolean {
  return (out as { isTTY?: boolean }).isTTY === true;
}

/** Runs one batch; with `live`, writes the first prompt's text as it comes. */
async function generateBatch(model: GenerativeModel, inputs: string[] | ReturnType<typeof asChats>, options: GenerateOptions, live: ((text: string) => void) | null): Promise<DecodingResult> {
  const stream = generateStream(model, inputs, options);
  for (;;) {
    const r = await stream.next();
    if (r.done) return r.value;
    if (live !== null) live(r.value.text![0]!);
  }
}

export async function runGenerate(opts: Options, _positionals: readonly string[], out: NodeJS.WritableStream): Promise<void> {
  const settings = generationOptions(opts);
  const batchSize = opts.positiveInteger('batch-size') ?? 1;
  const generator = seededGenerator(opts);
  const json = opts.boolean('json') ?? false;
  if (json && opts.boolean('stream') === true) throw new CliError('--stream and --json cannot be combined (--json prints each prompt once it is done)');
  const stream = opts.boolean('stream') ?? (!json && isTerminal(out));
  const adapters = adapterSources(opts);
  const prompts = await readPrompts(opts.list('prompt') ?? [], opts.string('prompts'));
  const chat = (opts.boolean('chat') ?? false) || prompts.some((p) => typeof p !== 'string');
  const modelDir = opts.requireString('model');
  const tokenizer = await loadTokenizer(opts.string('tokenizer') ?? modelDir);
  const model = await loadModel(modelDir, adapters, opts.boolean('merge') ?? false);
  const options: GenerateOptions = { ...settings, tokenizer, trimStopStrings: true, ...(generator === undefined ? {} : { generator }) };
  const labelled = !json && prompts.length > 1;
  const header = (p: CliPrompt) => (labelled ? `> ${promptLabel(p)}\n` : '');
  try {
    for (let start = 0; start < prompts.length; start += batchSize) {
      const batch = prompts.slice(start, start + batchSize);
      const inputs = chat ? asChats(batch) : (batch as string[]);
      if (stream) out.write(header(batch[0]!));
      const result = await generateBatch(model, inputs, options, stream ? (text) => out.write(text) : null);
      batch.forEach((prompt, b) => {
        const completion = result.text![b]!;
        if (json) out.write(`${JSON.stringify({ prompt, completion, tokens: result.tokens[b], finishReason: result.finishReasons[b] })}\n`);
        else if (stream && b === 0) out.write('\n');
        else out.write(`${header(prompt)}${completion}\n`);
      });
    }
  } finally {
    model.dispose();
  }
}
