// Chat templates: choosing the template as transformers does (a named one, 'tool_use' when tools are
// given, else 'default') and rendering it with @huggingface/jinja, which follows transformers' Jinja
// environment (trim_blocks, lstrip_blocks, raise_exception, strftime_now, tojson).
import { Template } from '@huggingface/jinja';
import { TokenizerError } from './errors.js';

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
  try {
    return compiled.render({
      ...named,
      ...opts.templateVars,
      messages,
      tools: opts.tools ?? null,
      documents: opts.documents ?? null,
      add_generation_prompt: opts.addGenerationPrompt ?? false,
    });
  } catch (e) {
    throw new TokenizerError(`the chat template failed: ${(e as Error).message}`, { cause: e });
  }
}
