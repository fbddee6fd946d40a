// English → German UI strings from the German gettext catalogs Debian installs
// (/usr/share/locale/de/LC_MESSAGES): short, single-line messages without format directives,
// context or plural forms, translated and different from the source.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { splitTrainValidation } from '../../src/train/data/split.js';
import { jsonl, pick, writeData } from './common.js';
import { readMo } from './mo.js';

const LOCALE = '/usr/share/locale/de/LC_MESSAGES';
/** Catalog → licence of the package that ships it. */
const CATALOGS: Record<string, string> = {
  coreutils: 'GPL-3+',
  grep: 'GPL-3+',
  findutils: 'GPL-3+',
  diffutils: 'GPL-3+',
  sed: 'GPL-3+',
  tar: 'GPL-3+',
  make: 'GPL-3+',
  iso_3166: 'LGPL-2.1+',
  'iso_639-2': 'LGPL-2.1+',
  iso_4217: 'LGPL-2.1+',
};
const COUNT = 400;

function clean(source: string, target: string): boolean {
  const ok = (s: string): boolean => /^[\p{L}\p{N} ,.;:()'-]+$/u.test(s) && s.length >= 3 && s.length <= 60 && s === s.trim();
  return ok(source) && ok(target) && /^\p{L}/u.test(source) && /^[\x20-\x7e]+$/.test(source) && /\p{L}{3}/u.test(source) && source !== target;
}

const pairs: Record<string, string>[] = [];
const seen = new Set<string>();
for (const catalog of Object.keys(CATALOGS)) {
  const path = join(LOCALE, `${catalog}.mo`);
  if (!existsSync(path)) throw new Error(`${path} is missing (its Debian package is not installed)`);
  for (const e of readMo(path)) {
    if (e.msgid === '' || e.context !== null || e.plural || !clean(e.msgid, e.msgstr) || seen.has(e.msgid)) continue;
    seen.add(e.msgid);
    pairs.push({ source: e.msgid, target: e.msgstr, catalog });
  }
}
const chosen = pick(pairs, COUNT, 20);
const { train, validation } = splitTrainValidation(chosen, { validationSize: 0.1, seed: 20 });
writeData('translation-de', 'train.jsonl', jsonl(train));
writeData('translation-de', 'validation.jsonl', jsonl(validation));
console.log(`translation-de: ${pairs.length} candidates; ${train.length} train, ${validation.length} validation; catalogs: ${Object.entries(CATALOGS).map(([c, l]) => `${c} (${l})`).join(', ')}`);
