// Loading a tokenizer from its files: a local directory or Hub repo (through the HF cache), or the
// TokenizerFiles already found for a model folder.
import { readFileSync } from 'node:fs';
import { openFileSource, type SourceOptions } from '../io/file-source.js';
import { readJsonObject } from '../io/json-file.js';
import { findTokenizerFiles, type TokenizerFiles } from '../io/model-folder.js';
import { TokenizerError } from './errors.js';
import { Tokenizer } from './tokenizer.js';

export function tokenizerFromFiles(files: TokenizerFiles, name = 'tokenizer'): Tokenizer {
  if (files.tokenizer === null) {
    throw new TokenizerError(`${name} has no tokenizer.json (only tokenizers saved in the tokenizers-library format are supported)`);
  }
  return new Tokenizer({
    name,
    tokenizerJson: readJsonObject(files.tokenizer),
    tokenizerConfig: files.tokenizerConfig === null ? {} : readJsonObject(files.tokenizerConfig),
    specialTokensMap: files.specialTokensMap === null ? null : readJsonObject(files.specialTokensMap),
    chatTemplate: files.chatTemplate === null ? null : readFileSync(files.chatTemplate, 'utf8'),
  });
}

/** Loads the tokenizer of a local directory or Hub repo id (tokenizer.json + tokenizer_config.json, …). */
export async function loadTokenizer(pathOrRepoId: string, opts: SourceOptions = {}): Promise<Tokenizer> {
  const source = openFileSource(pathOrRepoId, opts);
  return tokenizerFromFiles(await findTokenizerFiles(source), source.label);
}
