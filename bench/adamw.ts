// One AdamW step over LoRA-shaped parameters (A: [r, d] and B: [d, r] pairs, as for the query and
// value projections of a 12-layer BERT-base) vs torch.optim.AdamW, both its default single-tensor
// loop and its fused CPU kernel.
import { AdamW, randn, type Tensor } from '../src/index.js';
import type { Bench } from './harness/bench.js';

export const bench: Bench = {
  description: 'AdamW.step() over 48 LoRA pairs (rank 16, d 768): 96 tensors, 1.18M elements',
  flags: { rank: 'LoRA rank (default 16)', pairs: 'number of A/B pairs (default 48)' },
  cases: (flags) => {
    const params = { rank: flags.number('rank', 16), pairs: flags.number('pairs', 48), d: 768 };
    return ['default', 'fused'].map((torchImpl) => ({ label: `vs torch ${torchImpl}`, params: { ...params, torch_impl: torchImpl } }));
  },
  ours: (c) => {
    const { rank, pairs, d } = c.params as { rank: number; pairs: number; d: number };
    const params: Tensor[] = [];
    for (let i = 0; i < pairs; i++) params.push(randn([rank, d]).setRequiresGrad(), randn([d, rank]).setRequiresGrad());
    for (const p of params) p.grad = randn(p.shape);
    const opt = new AdamW(params);
    return {
      run: () => opt.step(),
      dispose: () => {
        opt.dispose();
        for (const p of params) {
          p.zeroGrad();
          p.dispose();
        }
      },
    };
  },
};
