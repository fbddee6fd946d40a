import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { latestCheckpoint } from '../../src/train/index.js';
import { makeTempDir } from '../helpers/temp.js';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'train-child.js');

interface ChildRun {
  /** The `@…` event lines, in order. */
  events: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs the training child; `onEvent` may return a signal to send it. */
function runChild(config: object, onEvent: (event: string) => NodeJS.Signals | undefined = () => undefined): Promise<ChildRun> {
  const child = spawn(process.execPath, [script, JSON.stringify(config)], { env: { ...process.env, PEFTJS_NUM_THREADS: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const events: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('@')) return;
    events.push(line);
    const signal = onEvent(line);
    if (signal !== undefined) child.kill(signal);
  });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ events, code, signal })));
}

const tmp = makeTempDir();
process.on('exit', tmp.remove);
const adapter = (dir: string) => readFileSync(join(dir, 'adapter_model.safetensors'));
let reference: Promise<string> | undefined;
/** The uninterrupted run's output folder. */
function referenceRun(): Promise<string> {
  reference ??= (async () => {
    const outputDir = join(tmp.dir, 'reference');
    const run = await runChild({ outputDir });
    assert.equal(run.code, 0);
    return outputDir;
  })();
  return reference;
}

async function resumeAndCompare(outputDir: string, from: number): Promise<void> {
  const resumed = await runChild({ outputDir, resume: true });
  assert.equal(resumed.code, 0);
  assert.equal(resumed.events[0], `@step ${from + 1}`, 'the resumed run continues after the checkpoint');
  assert.match(resumed.events.at(-1)!, /^@done \{"globalStep":12,.*"interrupted":false\}$/);
  const ref = await referenceRun();
  assert.ok(adapter(join(outputDir, 'checkpoint-12')).equals(adapter(join(ref, 'checkpoint-12'))), 'checkpoint-12 adapter bytes');
  assert.ok(adapter(outputDir).equals(adapter(ref)), 'final adapter bytes');
}

test('a run killed with SIGKILL after a checkpoint resumes to the same adapter bytes as an uninterrupted run', async () => {
  const outputDir = join(tmp.dir, 'killed');
  const killed = await runChild({ outputDir, stepDelayMs: 25 }, (e) => (e === '@saved 4' ? 'SIGKILL' : undefined));
  assert.equal(killed.signal, 'SIGKILL');
  assert.ok(!killed.events.some((e) => e.startsWith('@done')) && !existsSync(join(outputDir, 'adapter_model.safetensors')), 'killed before the end');
  const last = latestCheckpoint(outputDir)!;
  const step = Number(last.slice(last.lastIndexOf('-') + 1));
  assert.ok(step >= 4 && step < 12, `resumes from checkpoint-${step}`);
  await resumeAndCompare(outputDir, step);
});

test('SIGINT saves a checkpoint at the current step and stops; resuming from it gives the same adapter bytes', async () => {
  const outputDir = join(tmp.dir, 'interrupted');
  const run = await runChild({ outputDir, stepDelayMs: 25 }, (e) => (e === '@step 5' ? 'SIGINT' : undefined));
  assert.equal(run.code, 130, 'train() returns; the process ends with the status of an interrupted program');
  const done = run.events.at(-1)!;
  assert.match(done, /"interrupted":true/);
  const step = (JSON.parse(done.slice('@done '.length)) as { globalStep: number }).globalStep;
  assert.ok(step >= 5 && step < 8, `stopped at step ${step}`);
  assert.ok(run.events.includes(`@saved ${step}`), 'the checkpoint of the interrupted step was saved');
  assert.equal(latestCheckpoint(outputDir), join(outputDir, `checkpoint-${step}`));
  assert.ok(!existsSync(join(outputDir, 'adapter_model.safetensors')), 'no final adapter for an interrupted run');
  await resumeAndCompare(outputDir, step);
});
