// Chat templates: choosing the template as transformers does (a named one, 'tool_use' when tools are
// given, else 'default') and rendering it with @huggingface/jinja, which follows transformers' Jinja
// environment (trim_blocks, lstrip_blocks, raise_exception, strftime_now, tojson). A template comes
// from a downloaded tokenizer_config.json, so, as transformers renders it in a sandbox, rendering is
// bounded: a template reaches only the values passed to it (never host objects), and one that runs
// too long (a loop over range(10**9)) or builds too much text is stopped with an error.
import { Environment, Interpreter, Template } from '@huggingface/jinja';
import { TokenizerError } from './errors.js';

// The package's declarations of its runtime do not resolve under node16 module resolution; these
// are the parts used here.
interface RuntimeValue {
  value: unknown;
}
interface JinjaInterpreter {
  run(program: Template['parsed']): RuntimeValue;
  evaluate(statement: unknown, environment: unknown): RuntimeValue;
  evaluateBlock(statements: unknown, environment: unknown): RuntimeValue;
}
const JinjaInterpreter = Interpreter as unknown as new (env: JinjaEnvironment) => JinjaInterpreter;
interface JinjaEnvironment {
  set(name: string, value: unknown): unknown;
}
const JinjaEnvironment = Environment as unknown as new () => JinjaEnvironment;

export interface ChatMessage {
  role: string;
  content?: unknown;
  [key: string]: unknown;
}

export interface RenderOptions {
  addGenerationPrompt?: boolean;
  /** Tool JSON schemas, passed to the template as `tools`. */
  tools?: readonly Record<string, unknown>[];
  /** Retrieval documents, passed as `documents`. */
  documents?: readonly Record<string, unknown>[];
  /** A template name (for tokenizers with several) or a template string. */
  chatTemplate?: string;
  /** Further template variables; they override the special tokens of the same name. */
  templateVars?: Record<string, unknown>;
}

export function selectTemplate(
  templates: string | Record<string, string> | null,
  requested: string | undefined,
  hasTools: boolean,
): string {
  if (templates !== null && typeof templates === 'object') {
    if (requested !== undefined) return templates[requested] ?? requested;
    const chosen = (hasTools ? templates.tool_use : undefined) ?? templates.default;
    if (chosen === undefined) {
      throw new TokenizerError(
        `this tokenizer has several chat templates and none is named 'default'; pass chatTemplate as one of: ${Object.keys(templates).sort().join(', ')}`,
      );
    }
    return chosen;
  }
  const chosen = requested ?? templates;
  if (chosen === null) {
    throw new TokenizerError('this tokenizer has no chat template (no chat_template in tokenizer_config.json and no chat_template.jinja); pass chatTemplate');
  }
  return chosen;
}

/**
 * Evaluation steps one rendering may take: an expression or statement is one, an item of range() one,
 * a block (an if branch, a loop iteration's body) BLOCK_STEPS, as a loop iteration costs as much as
 * several expressions. A real template takes some tens of steps per message.
 */
const MAX_TEMPLATE_STEPS = 5_000_000;
const BLOCK_STEPS = 4;
/** The longest string a rendering may build, in characters. */
const MAX_TEMPLATE_CHARS = 1 << 26;
/** The longest list a rendering may build. */
const MAX_TEMPLATE_ITEMS = 1 << 20;

function tooLarge(what: string): TokenizerError {
  return new TokenizerError(
    `the chat template failed: it ${what}; a chat template may take at most ${MAX_TEMPLATE_STEPS} steps and build strings of at most ${MAX_TEMPLATE_CHARS} characters and lists of at most ${MAX_TEMPLATE_ITEMS} items`,
  );
}

/** An interpreter that counts its steps and checks the size of every value it builds. */
class BoundedInterpreter extends JinjaInterpreter {
  steps = 0;

  /** Counts `n` steps (range() counts its items, which it builds before any loop runs). */
  spend(n: number): void {
    this.steps += n;
    if (this.steps > MAX_TEMPLATE_STEPS) throw tooLarge('runs too long');
  }

  override evaluate(statement: unknown, environment: unknown): RuntimeValue {
    this.spend(1);
    const result = super.evaluate(statement, environment);
    const v: unknown = result.value;
    if (typeof v === 'string' && v.length > MAX_TEMPLATE_CHARS) throw tooLarge(`builds a string of ${v.length} characters`);
    if (Array.isArray(v) && v.length > MAX_TEMPLATE_ITEMS) throw tooLarge(`builds a list of ${v.length} items`);
    return result;
  }

  // Every loop iteration evaluates its body as a block, even an empty one.
  override evaluateBlock(statements: unknown, environment: unknown): RuntimeValue {
    this.spend(BLOCK_STEPS);
    return super.evaluateBlock(statements, environment);
  }
}

/** Python's range(), counting the items it makes against the rendering's steps before making them. */
function boundedRange(interpreter: BoundedInterpreter) {
  return (start: number, stop?: number, step = 1): number[] => {
    if (stop === undefined) [start, stop] = [0, start];
    if (![start, stop, step].every(Number.isInteger)) throw new Error('range() takes integers');
    if (step === 0) throw new Error('range() step must not be zero');
    const count = Math.max(0, Math.ceil((stop - start) / step));
    interpreter.spend(count);
    if (count > MAX_TEMPLATE_ITEMS) throw tooLarge(`builds a list of ${count} items`);
    return Array.from({ length: count }, (_, i) => start + i * step);
  };
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** strftime for the codes chat templates use (%Y %m %d %b %B %H %M %%); others are kept as written. */
function strftimeNow(format: string): string {
  const d = new Date();
  return String(format).replace(/%[YmdbBHM%]/g, (code) => {
    switch (code) {
      case '%Y': return String(d.getFullYear());
      case '%m': return pad2(d.getMonth() + 1);
      case '%d': return pad2(d.getDate());
      case '%b': return d.toLocaleString('en-US', { month: 'short' });
      case '%B': return d.toLocaleString('en-US', { month: 'long' });
      case '%H': return pad2(d.getHours());
      case '%M': return pad2(d.getMinutes());
      default: return '%';
    }
  });
}

export function renderChat(
  template: string,
  messages: readonly ChatMessage[],
  specialTokens: Record<string, string | null>,
  opts: RenderOptions,
): string {
  if (messages.length === 0) throw new TokenizerError('cannot apply a chat template to an empty conversation');
  const named = Object.fromEntries(Object.entries(specialTokens).filter(([, v]) => v !== null));
  let compiled: Template;
  try {
    compiled = new Template(template);
  } catch (e) {
    throw new TokenizerError(`the chat template does not parse: ${(e as Error).message}`, { cause: e });
  }
  // Template.render's environment, with range() and the work done bounded.
  const env = new JinjaEnvironment();
  const interpreter = new BoundedInterpreter(env);
  const globals: Record<string, unknown> = {
    false: false, true: true, none: null, False: false, True: true, None: null,
    raise_exception: (message: unknown) => {
      throw new Error(String(message));
    },
    range: boundedRange(interpreter),
    strftime_now: strftimeNow,
    ...named,
    ...opts.templateVars,
    messages,
    tools: opts.tools ?? null,
    documents: opts.documents ?? null,
    add_generation_prompt: opts.addGenerationPrompt ?? false,
  };
  try {
    for (const [name, value] of Object.entries(globals)) env.set(name, value);
    const out = interpreter.run(compiled.parsed).value;
    return String(out);
  } catch (e) {
    if (e instanceof TokenizerError) throw e;
    if (e instanceof RangeError && /Invalid string length|Invalid array length/.test(e.message)) throw tooLarge('builds a string or list too long to hold');
    throw new TokenizerError(`the chat template failed: ${(e as Error).message}`, { cause: e });
  }
}
