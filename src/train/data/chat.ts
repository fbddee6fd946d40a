// Instruction / chat fine-tuning: a record ({messages: [{role, content}]}, {prompt, completion} or
// {instruction, input?, output}) rendered with the tokenizer's chat template, with the loss on the
// assistant turns only. Each answer starts where the conversation before it, rendered with the
// generation prompt, ends, and stops where the conversation through it ends; both renderings must be
// token prefixes of the whole conversation's, or the answer cannot be located and the record is
// rejected.
import type { ChatMessage, ChatTemplateOptions, Tokenizer } from '../../tokenizers/index.js';
import { DataError } from './errors.js';
import { IGNORE_INDEX, resolveMaxLength, type Example } from './example.js';
import { getMessages, getString, hasField, type DataRecord } from './record.js';

export interface ChatExampleOptions {
  /** Keep at most this many tokens (default the tokenizer's model_max_length). */
  maxLength?: number;
  /** A system message put first (for records without one). */
  systemPrompt?: string;
  /** A chat template name or template string, as for applyChatTemplate. */
  chatTemplate?: string;
}

function recordMessages(rec: DataRecord): ChatMessage[] {
  if ('messages' in rec.data) return getMessages(rec);
  if ('prompt' in rec.data || 'completion' in rec.data) {
    return [
      { role: 'user', content: getString(rec, 'prompt') },
      { role: 'assistant', content: getString(rec, 'completion') },
    ];
  }
  if ('instruction' in rec.data) {
    const input = hasField(rec, 'input') ? getString(rec, 'input') : '';
    return [
      { role: 'user', content: input === '' ? getString(rec, 'instruction') : `${getString(rec, 'instruction')}\n\n${input}` },
      { role: 'assistant', content: getString(rec, 'output') },
    ];
  }
  throw new DataError(rec.file, rec.line, 'expected a chat record: field "messages", fields "prompt" and "completion", or fields "instruction" and "output"');
}

function isPrefix(prefix: readonly number[], of: readonly number[]): boolean {
  return prefix.length <= of.length && prefix.every((id, i) => of[i] === id);
}

export function buildChatExample(tokenizer: Tokenizer, rec: DataRecord, opts: ChatExampleOptions = {}): Example {
  const maxLength = resolveMaxLength(tokenizer, opts.maxLength, 'buildChatExample');
  const messages = recordMessages(rec);
  const conversation = opts.systemPrompt !== undefined && messages[0]!.role !== 'system' ? [{ role: 'system', content: opts.systemPrompt }, ...messages] : messages;
  const render = (msgs: ChatMessage[], addGenerationPrompt: boolean): number[] => {
    const o: ChatTemplateOptions & { tokenize?: true } = { addGenerationPrompt };
    if (opts.chatTemplate !== undefined) o.chatTemplate = opts.chatTemplate;
    return tokenizer.applyChatTemplate(msgs, o);
  };
  const full = render(conversation, false);
  const labels = new Int32Array(full.length).fill(IGNORE_INDEX);
  let answers = 0;
  conversation.forEach((m, i) => {
    if (m.role !== 'assistant') return;
    if (i === 0) throw new DataError(rec.file, rec.line, 'the conversation starts with an assistant message: there is no prompt before it');
    const before = render(conversation.slice(0, i), true);
    const through = i === conversation.length - 1 ? full : render(conversation.slice(0, i + 1), false);
    if (!isPrefix(before, full) || !isPrefix(through, full) || through.length < before.length) {
      throw new DataError(
        rec.file,
        rec.line,
        `cannot find the tokens of assistant message ${i}: the chat template's rendering of the conversation before it (with the generation prompt) is not a token prefix of the whole conversation's`,
      );
    }
    for (let j = before.length; j < through.length; j++) labels[j] = full[j]!;
    answers++;
  });
  if (answers === 0) throw new DataError(rec.file, rec.line, 'the conversation has no assistant message to learn from');
  const n = Math.min(full.length, maxLength);
  return { inputIds: Int32Array.from(full.slice(0, n)), labels: labels.slice(0, n) };
}
