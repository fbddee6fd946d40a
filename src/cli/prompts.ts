// The prompts of `peftjs generate`: the --prompt values, then those of a --prompts file (.txt: one
// prompt per non-blank line; .jsonl: {"prompt": text} or {"messages": [{role, content}, …]} per line).
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import type { ChatMessage } from '../tokenizers/chat-template.js';
import { collect, DataError, getMessages, getString, readJsonl, readLines } from '../train/data/index.js';
import { CliError } from './args.js';

/** A text, or a conversation to render with the chat template. */
export type CliPrompt = string | ChatMessage[];

async function readPromptFile(path: string): Promise<CliPrompt[]> {
  if (!existsSync(path)) throw new CliError(`--prompts: ${path} does not exist`);
  const ext = extname(path).toLowerCase();
  if (ext === '.txt') return (await collect(readLines(path))).map((l) => l.text).filter((t) => t.trim() !== '');
  if (ext !== '.jsonl') throw new CliError(`--prompts: expected a .txt or .jsonl file, got ${path}`);
  return (await collect(readJsonl(path))).map((rec) => {
    if ('messages' in rec.data) return getMessages(rec);
    if (!('prompt' in rec.data)) throw new DataError(rec.file, rec.line, 'expected field "prompt" (a string) or "messages" (an array of {role, content})');
    const text = getString(rec, 'prompt');
    if (text === '') throw new DataError(rec.file, rec.line, 'field "prompt" is empty');
    return text;
  });
}

/** The prompts, in order: --prompt values, then the file's; at least one, none empty. */
export async function readPrompts(given: readonly string[], file: string | undefined): Promise<CliPrompt[]> {
  const empty = given.findIndex((p) => p === '');
  if (empty >= 0) throw new CliError(`--prompt: prompt ${empty + 1} is empty; give some text`);
  const prompts: CliPrompt[] = [...given, ...(file === undefined ? [] : await readPromptFile(file))];
  if (prompts.length === 0) throw new CliError(file === undefined ? 'give a prompt: --prompt <text> or --prompts <file>' : `--prompts: ${file} holds no prompts`);
  return prompts;
}

/** Prompts as chats: texts become one user message. */
export function asChats(prompts: readonly CliPrompt[]): ChatMessage[][] {
  return prompts.map((p) => (typeof p === 'string' ? [{ role: 'user', content: p }] : p));
}

/** One line that shows the prompt: the text, or a conversation's last message. */
export function promptLabel(prompt: CliPrompt): string {
  const text = typeof prompt === 'string' ? prompt : String(prompt[prompt.length - 1]!.content);
  return text.replace(/\s*\n\s*/g, ' ');
}
