// Helpers for the PEFT config/matching tests: fixture loading, warning capture, set-aware JSON comparison.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Linear } from '../../src/nn/linear.js';
import type { PeftConfig, SaveOptions } from '../../src/peft/config.js';
import { MergeError } from '../../src/peft/errors.js';
import type { BaseTunerLayer } from '../../src/peft/tuners/base-tuner-layer.js';
import { snakeToCamel } from '../../src/peft/utils/config-fields.js';
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

/** captureWarnings for an async fn: the warnings until its promise settles. */
export async function captureWarningsAsync<T>(fn: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const previous = setWarningHandler((m) => warnings.push(m));
  try {
    return { result: await fn(), warnings };
  } finally {
    setWarningHandler(previous);
  }
}

/** Keys PEFT holds as sets: their saved order is arbitrary, so they compare as sorted lists. */
export const SET_KEYS = ['target_modules', 'exclude_modules', 'feedforward_modules'];

function normalise(json: Record<string, unknown>): Record<string, unknown> {
  const out = { ...json };
  delete out['peft_version'];
  for (const k of SET_KEYS) if (Array.isArray(out[k])) out[k] = [...(out[k] as string[])].sort();
  return out;
}

/**
 * Our adapter_config.json text against PEFT's: equal as JSON with sets compared unordered, then — with our
 * sets put in PEFT's (hash-dependent) order — byte-identical.
 */
export function assertSameAdapterConfig(config: PeftConfig, theirs: string, label: string, options: SaveOptions = {}): void {
  const ours = config.toJsonString(options);
  const expected = JSON.parse(theirs) as Record<string, unknown>;
  assert.deepEqual(normalise(JSON.parse(ours) as Record<string, unknown>), normalise(expected), `${label}: saved JSON`);
  const fields = config as unknown as Record<string, unknown>;
  const saved = Object.fromEntries(SET_KEYS.map((k) => [snakeToCamel(k), fields[snakeToCamel(k)]]));
  try {
    for (const k of SET_KEYS) if (Array.isArray(expected[k])) fields[snakeToCamel(k)] = new Set(expected[k] as string[]);
    assert.equal(config.toJsonString(options), theirs, `${label}: saved bytes`);
  } finally {
    Object.assign(config, saved);
  }
}

/** The set-valued lists of a saved adapter_config.json text with their entries sorted. */
function sortSetLists(text: string): string {
  const lists = new RegExp(`("(?:${SET_KEYS.join('|')})": \\[)([^\\]]*)(\\n *\\])`, 'g');
  return text.replace(lists, (_, head: string, body: string, tail: string) => `${head}${body.split(',').sort().join(',')}${tail}`);
}

/** Two saved adapter_config.json texts: equal as JSON with sets compared unordered, and byte-identical up to set order. */
export function assertSameConfigText(ours: string, theirs: string, label: string): void {
  assert.deepEqual(normalise(JSON.parse(ours) as Record<string, unknown>), normalise(JSON.parse(theirs) as Record<string, unknown>), `${label}: saved JSON`);
  assert.equal(sortSetLists(ours), sortSetLists(theirs), `${label}: saved bytes`);
}

/**
 * `broken()` makes a layer keyed 'blocks.0.proj' over a Linear whose adapter makes merged weights non-finite: a safe
 * merge must refuse it and leave the weights alone, a plain merge must go through with one warning.
 */
export function assertNonFiniteMerges(broken: () => BaseTunerLayer): void {
  const safe = broken();
  const weight = (): Float32Array => (safe.getBaseLayer() as Linear).weight.toArray() as Float32Array;
  const before = weight();
  assert.throws(() => safe.merge({ safeMerge: true }), (e: unknown) => e instanceof MergeError && e.module === 'blocks.0.proj' && /NaN or infinite/.test(e.message));
  assert.deepEqual(weight(), before);
  assert.equal(safe.merged, false);
  const plain = broken();
  const { warnings } = captureWarnings(() => plain.merge());
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^blocks\.0\.proj: merging adapter 'default' put NaN or infinite values/);
  assert.equal(plain.merged, true);
}
