// Tokenizer behaviour beyond the recorded fixtures: template selection, config forms, errors, Hub loading.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { loadTokenizer, Tokenizer, TokenizerError } from '../../src/tokenizers/index.js';
import { fixturePath } from '../helpers/paths.js';
import { MockHub } from '../helpers/mock-hub.js';
import { makeTempDir, setHubEnv } from '../helpers/temp.js';

const fixture = (name: string, file: string): string => readFileSync(fixturePath('tokenizers', name, file), 'utf8');
const wordpieceJson = JSON.parse(fixture('wordpiece', 'tokenizer.json')) as Record<string, unknown>;
const spJson = JSON.parse(fixture('sentencepiece-bpe', 'tokenizer.json')) as Record<string, unknown>;
const chat = [{ role: 'user', content: 'Hi' }];

let tmp: { dir: string; remove: () => void };
let restoreEnv: () => void;
beforeEach(() => {
  tmp = makeTempDir();
  restoreEnv = setHubEnv();
});
afterEach(() => {
  tmp.remove();
  restoreEnv();
});

function rejectsWith(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof TokenizerError && pattern.test(e.message));
}

test('named chat templates: default, tool_use when tools are given, or by name', () => {
  const tok = new Tokenizer({
    tokenizerJson: wordpieceJson,
    tokenizerConfig: {
      chat_template: [
        { name: 'default', template: 'D:{{ messages[0].content }}' },
        { name: 'tool_use', template: 'T:{{ tools | length }}' },
        { name: 'rag', template: 'R:{{ documents[0].title }}' },
      ],
    },
  });
  assert.equal(tok.applyChatTemplate(chat, { tokenize: false }), 'D:Hi');
  assert.equal(tok.applyChatTemplate(chat, { tokenize: false, tools: [{}, {}] }), 'T:2');
  assert.equal(tok.applyChatTemplate(chat, { tokenize: false, chatTemplate: 'rag', documents: [{ title: 'Doc' }] }), 'R:Doc');
  assert.equal(tok.applyChatTemplate(chat, { tokenize: false, chatTemplate: '{{ messages | length }}!' }), '1!');
  const noDefault = new Tokenizer({ tokenizerJson: wordpieceJson, tokenizerConfig: { chat_template: [{ name: 'a', template: 'x' }] } });
  rejectsWith(() => noDefault.applyChatTemplate(chat), /several chat templates and none is named 'default'; pass chatTemplate as one of: a/);
});

test('chat template variables: special tokens, tools/documents as none, extra variables, raise_exception', () => {
  const tok = new Tokenizer({
    tokenizerJson: spJson,
    tokenizerConfig: { bos_token: '<s>', eos_token: { content: '</s>', __type: 'AddedToken' } },
    chatTemplate: "{{ bos_token }}{% if tools is none %}no-tools{% endif %}|{{ eos_token }}|{{ greeting }}{% if messages[0].role == 'bad' %}{{ raise_exception('bad role') }}{% endif %}",
  });
  assert.equal(tok.applyChatTemplate(chat, { tokenize: false, templateVars: { greeting: 'hey' } }), '<s>no-tools|</s>|hey');
  assert.deepEqual(tok.applyChatTemplate(chat, { templateVars: { greeting: 'x' } }), tok.encode('<s>no-tools|</s>|x', { addSpecialTokens: false }));
  rejectsWith(() => tok.applyChatTemplate([{ role: 'bad', content: '' }]), /the chat template failed: .*bad role/);
  rejectsWith(() => tok.applyChatTemplate([]), /empty conversation/);
  const none = new Tokenizer({ tokenizerJson: spJson });
  rejectsWith(() => none.applyChatTemplate(chat), /has no chat template/);
  rejectsWith(() => none.applyChatTemplate(chat, { chatTemplate: '{% if %}' }), /does not parse/);
});

test('chat templates are bounded: endless loops and runaway strings or lists are errors, host objects out of reach', () => {
  const tok = new Tokenizer({ tokenizerJson: spJson, tokenizerConfig: { bos_token: '<s>' } });
  const render = (chatTemplate: string): unknown => tok.applyChatTemplate(chat, { tokenize: false, chatTemplate });
  rejectsWith(() => render('{% for i in range(10**9) %}{% endfor %}'), /the chat template failed: it runs too long; .* at most 5000000 steps/);
  rejectsWith(() => render('{% set r = range(1000) %}{% for a in r %}{% for b in r %}{% for c in r %}{% endfor %}{% endfor %}{% endfor %}'), /runs too long/);
  rejectsWith(() => render("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}"), /builds a string of 134217728 characters/);
  rejectsWith(() => render('{% set ns = namespace(s=[1]) %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}'), /builds a list of 2097152 items/);
  rejectsWith(() => render("{{ 'a' | indent(10**9) }}"), /builds a string or list too long to hold/);
  // Only the values passed in are reachable: no prototypes, constructors or Function.
  assert.equal(render('{{ messages.constructor }}|{{ messages[0].__proto__ }}|{{ range.constructor }}'), '||');
  rejectsWith(() => render("{{ messages.constructor.constructor('return process')() }}"), /the chat template failed: Cannot call something that is not a function/);
  // The globals a template has as transformers gives them.
  assert.equal(render('{{ bos_token }}{{ range(3) | list }}{{ range(5, 0, -2) | list }}{{ none is none }}{{ True }}'), '<s>[0, 1, 2][5, 3, 1]truetrue');
  assert.match(String(render("{{ strftime_now('%Y-%m') }}")), /^\d{4}-\d{2}$/);
});

test('special_tokens_map.json fills in special tokens unless the config has added_tokens_decoder', () => {
  const legacy = new Tokenizer({ tokenizerJson: spJson, tokenizerConfig: { bos_token: '<unk>' }, specialTokensMap: { bos_token: { content: '<s>' }, pad_token: '</s>' } });
  assert.equal(legacy.bosToken, '<s>');
  assert.equal(legacy.bosTokenId, 1);
  assert.equal(legacy.padTokenId, 2);
  const modern = new Tokenizer({ tokenizerJson: spJson, tokenizerConfig: { bos_token: '<s>', added_tokens_decoder: {} }, specialTokensMap: { pad_token: '</s>' } });
  assert.equal(modern.padToken, null);
  assert.equal(modern.modelMaxLength, 1e30);
  assert.equal(modern.paddingSide, 'right');
});

test('errors: padding without pad token, maxLength below the special tokens, bad ids and configs', () => {
  const tok = new Tokenizer({ tokenizerJson: spJson, tokenizerConfig: { bos_token: '<s>' }, name: 'sp' });
  rejectsWith(() => tok.encodeBatch(['a', 'bb'], { padding: true }), /^sp: cannot pad: the tokenizer has no pad_token/);
  rejectsWith(() => tok.encodeBatch(['a'], { padding: 'max_length' }), /padding 'max_length' needs maxLength/);
  rejectsWith(() => tok.encodeBatch(['abc'], { truncation: true, maxLength: 0 }), /maxLength must be a positive integer/);
  const wp = new Tokenizer({ tokenizerJson: wordpieceJson, tokenizerConfig: { pad_token: '[PAD]' } });
  rejectsWith(() => wp.encodeBatch(['abc'], { truncation: true, maxLength: 1 }), /maxLength 1 leaves no room for the 2 special tokens/);
  assert.deepEqual(wp.encodeBatch(['hello world'], { truncation: true, maxLength: 2 }).inputIds, [[wp.tokenToId('[CLS]'), wp.tokenToId('[SEP]')]]);
  assert.equal(tok.decode([]), '');
  assert.equal(tok.decode([1, 99999], { skipSpecialTokens: true }), '');
  rejectsWith(() => tok.decode([1.5]), /token ids must be an array of integers/);
  rejectsWith(() => new Tokenizer({ tokenizerJson: spJson, tokenizerConfig: { padding_side: 'middle' }, name: 'x' }), /x: tokenizer_config\.json: "padding_side" must be "left" or "right"/);
  rejectsWith(() => new Tokenizer({ tokenizerJson: spJson, tokenizerConfig: { bos_token: 3 } }), /"bos_token" must be a string or an object/);
  rejectsWith(() => new Tokenizer({ tokenizerJson: spJson, tokenizerConfig: { additional_special_tokens: '<s>' } }), /tokenizer_config\.json: "additional_special_tokens" must be a list of tokens, got "<s>"/);
  rejectsWith(() => new Tokenizer({ tokenizerJson: spJson, tokenizerConfig: { additional_special_tokens: ['<s>', 3] } }), /"additional_special_tokens\[1\]" must be a string or an object/);
  rejectsWith(() => new Tokenizer({ tokenizerJson: { model: { type: 'Nope' } }, name: 'y' }), /^y: tokenizer\.json: model\.type must be one of "BPE", "Unigram", "WordPiece", got "Nope"$/);
});

test('loadTokenizer: a folder without tokenizer.json, and a tokenizer served by the Hub', async () => {
  const empty = join(tmp.dir, 'empty');
  mkdirSync(empty);
  writeFileSync(join(empty, 'tokenizer_config.json'), '{}');
  await assert.rejects(loadTokenizer(empty), (e: unknown) => e instanceof TokenizerError && e.message.includes(`directory '${empty}' has no tokenizer.json`));

  const files = ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja'];
  const commit = 'f'.repeat(40);
  const hub = await MockHub.start({
    'org/chat': { refs: { main: commit }, commits: { [commit]: Object.fromEntries(files.map((f) => [`tok/${f}`, fixture('byte-level-bpe', f)])) } },
  });
  try {
    const opts = { cacheDir: join(tmp.dir, 'cache'), endpoint: hub.url, subfolder: 'tok' };
    const remote = await loadTokenizer('org/chat', opts);
    const local = await loadTokenizer(fixturePath('tokenizers', 'byte-level-bpe'));
    assert.equal(remote.applyChatTemplate(chat, { tokenize: false }), local.applyChatTemplate(chat, { tokenize: false }));
    assert.deepEqual(remote.encode('Hello, world!'), local.encode('Hello, world!'));
    hub.resetRequests();
    await loadTokenizer('org/chat', { ...opts, revision: commit });
    assert.equal(hub.requests.length, 0);
  } finally {
    await hub.close();
  }
});
