// A training run in its own process, for the interruption tests: a tiny causal LM with dropout (one
// layer on its own generator, one on the default generator) trained for 12 steps with gradient
// accumulation and a checkpoint every 4 steps. argv[2] is JSON {outputDir, resume?, stepDelayMs?}.
// Events go to stdout as `@step N`, `@saved N` and `@done {…}` lines among the trainer's log lines.
import { setTimeout as sleep } from 'node:timers/promises';
import { Trainer } from '../../src/train/index.js';
import { collateTokens, tinyLmModel, tokenData } from './toy-models.js';

const config = JSON.parse(process.argv[2]!) as { outputDir: string; resume?: boolean; stepDelayMs?: number };
const trainer = new Trainer({
  model: tinyLmModel({ dropout: 0.3 }),
  trainData: tokenData(10, 16, 11),
  collate: collateTokens,
  args: {
    outputDir: config.outputDir,
    maxSteps: 12,
    perDeviceTrainBatchSize: 2,
    gradientAccumulationSteps: 2,
    saveSteps: 4,
    loggingSteps: 2,
    learningRate: 0.02,
    weightDecay: 0.01,
    resumeFromCheckpoint: config.resume ?? false,
  },
  callbacks: [
    {
      onStep: async (s) => {
        process.stdout.write(`@step ${s.globalStep}\n`);
        if (config.stepDelayMs !== undefined) await sleep(config.stepDelayMs);
      },
      onSave: (_, s) => void process.stdout.write(`@saved ${s.globalStep}\n`),
    },
  ],
});
const out = await trainer.train();
process.stdout.write(`@done ${JSON.stringify(out)}\n`);
