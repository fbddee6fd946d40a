"""PyTorch side of bench/attention.ts: median milliseconds of torch's scaled_dot_product_attention
(forward, and forward + backward) on the same shapes and thread count, printed as JSON as
[median, min] pairs."""
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F

B, H, T, D, threads, reps = (int(x) for x in sys.argv[1:7])
torch.set_num_threads(threads)
gen = torch.Generator().manual_seed(0)
q, k, v = (torch.randn(B, H, T, D, generator=gen).requires_grad_() for _ in range(3))
grad = torch.randn(B, H, T, D, generator=gen)


def timings_ms(fn):
    for _ in range(3):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return [statistics.median(times) * 1e3, min(times) * 1e3]


def forward(causal):
    with torch.no_grad():
        F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def train_step(causal):
    F.scaled_dot_product_attention(q, k, v, is_causal=causal).backward(grad)
    q.grad = k.grad = v.grad = None


print(json.dumps({f"{name}{' causal' if c else ''}": timings_ms(lambda: fn(c))
                  for c in (False, True) for name, fn in (("forward", forward), ("forward+backward", train_step))}))
