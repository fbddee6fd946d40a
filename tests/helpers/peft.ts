// Helpers for the PEFT config/matching tests: fixture loading, warning capture.
import { readFileSync } from 'node:fs';
import { setWarningHandler } from '../../src/peft/utils/warnings.js';
import { fixturePath } from './paths.js';

export function loadPeftFixture<T>(name: string): T {
  return JSON.parse(readFileSync(fixturePath('peft', name), 'utf8')) as T;
}

/** Runs fn with PEFT warnings collected instead of printed. */
export function captureWarnings<T>(fn: () => T): { result: T; warnings: string[] } {
  const warnings: string[] = [];
  const previous = setWarningHandler((m) => warnings.push(m));
  try {
    return { result: fn(), warnings };
  } finally {
    setWarningHandler(previous);
  }
}
