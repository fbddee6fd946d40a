// Pattern helpers PEFT keeps in peft/utils/other.py.
import { pyFullmatch, pyMatch } from './python-regex.js';

/** A str `target_modules` selects a module when the regex matches its whole dotted name. */
export function matchTargetAgainstKey(targetPattern: string, key: string): boolean {
  return pyFullmatch(targetPattern, key) !== null;
}

/**
 * The rank_pattern / alpha_pattern key that applies to module `key`: the first (in order) whose regex
 * matches the end of the name at a dot boundary or the whole name; `key` itself when none does.
 */
export function getPatternKey(patternKeys: Iterable<string>, key: string): string {
  for (const pattern of patternKeys) {
    if (pyMatch(`(.*\\.)?(${pattern})$`, key) !== null) return pattern;
  }
  return key;
}
