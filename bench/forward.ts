// LoRA model inference (logits, no graph) vs PyTorch+PEFT; see bench/lm.
import { lmBench } from './lm/lm-bench.js';

export const bench = lmBench('forward');
