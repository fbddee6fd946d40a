"""The PyTorch side of `npm run bench` (see bench/harness/torch-worker.ts). Reads JSON lines on
stdin and answers one JSON line each on stdout:
  {"cmd": "prepare", "bench": name, "params": {...}}  builds the callable of bench `name`
  {"cmd": "time", "iters": n}                         -> {"ok": true, "seconds": s} for n calls
  {"cmd": "release"}                                  drops the callable
  {"cmd": "rss"}                                      -> {"ok": true, "current_mb": m, "peak_mb": p}
A bench is a function below, registered with @bench under the name of its bench/<name>.ts, that
takes the case parameters and returns the zero-argument callable to time."""
import argparse
import gc
import itertools
import json
import resource
import sys
import time
import traceback

import torch

BENCHES = {}


def bench(fn):
    BENCHES[fn.__name__] = fn
    return fn


@bench
def gemm(p):
    pairs = [(torch.randn(p["m"], p["k"]), torch.randn(p["k"], p["n"])) for _ in range(p.get("operands", 1))]
    calls = itertools.cycle(pairs)

    def run():
        a, b = next(calls)
        return torch.matmul(a, b)

    return run


@bench
def dispatch(p):
    op = p["op"]
    if op == "reshape":
        x = torch.randn(4, 4)
        return lambda: x.reshape(16)
    if op == "matmul":
        a, b = torch.randn(1, 1), torch.randn(1, 1)
        return lambda: torch.matmul(a, b)
    if op == "zeros":
        return lambda: torch.zeros(4)
    raise ValueError(f"dispatch: unknown op {op!r}")


@bench
def adamw(p):
    params = []
    for _ in range(p["pairs"]):
        params += [torch.randn(p["rank"], p["d"], requires_grad=True), torch.randn(p["d"], p["rank"], requires_grad=True)]
    for t in params:
        t.grad = torch.randn_like(t)
    opt = torch.optim.AdamW(params, fused=p["torch_impl"] == "fused" or None)
    return opt.step


@bench
def ops(p):
    B, T, D, H, V = p["B"], p["T"], p["D"], p["H"], p["V"]
    F = torch.nn.functional
    leaf = lambda *shape: torch.randn(*shape).requires_grad_(True)
    op = p["op"]
    if op == "layerNorm":
        x, w, b = leaf(B, T, D), leaf(D), leaf(D)
        leaves, fwd = [x, w, b], lambda: F.layer_norm(x, (D,), w, b, 1e-5)
    elif op == "rmsNorm":
        x, w = leaf(B, T, D), leaf(D)
        leaves, fwd = [x, w], lambda: F.rms_norm(x, (D,), w, 1e-6)
    elif op == "softmax":
        x = leaf(B, H, T, T)
        leaves, fwd = [x], lambda: torch.softmax(x, -1)
    elif op == "gelu":
        x = leaf(B, T, 4 * D)
        leaves, fwd = [x], lambda: F.gelu(x, approximate="tanh")
    elif op == "attention":
        q, k, v = leaf(B, H, T, D // H), leaf(B, H, T, D // H), leaf(B, H, T, D // H)
        leaves, fwd = [q, k, v], lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)
    elif op == "crossEntropy":
        logits = leaf(B * T, V)
        targets = torch.arange(B * T) * 7919 % V
        leaves, fwd = [logits], lambda: F.cross_entropy(logits, targets)
    else:
        raise ValueError(f"ops: unknown op {op!r}")
    grads = {}

    def step():
        y = fwd()
        if y.numel() == 1:
            y.backward()
        else:
            g = grads.get(y.shape)
            if g is None:
                g = grads[y.shape] = torch.randn(y.shape)
            y.backward(g)
        for t in leaves:
            t.grad = None

    return step


def lm_model(p):
    """The random-initialised causal LM of bench/lm/models.ts with its LoRA adapter (PEFT)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    config = dict(p["config"])
    config = AutoConfig.for_model(config.pop("model_type"), **config)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **p["lora"]))
    ids = torch.tensor(p["tokens"], dtype=torch.long).view(p["batch"], p["seq"])
    return model, ids


@bench
def train(p):
    model, ids = lm_model(p)
    model.train()
    # transformers' Trainer default optimizer (adamw_torch_fused) over the LoRA parameters.
    opt = torch.optim.AdamW([t for t in model.parameters() if t.requires_grad], lr=1e-4, fused=True)

    def step():
        model(input_ids=ids, labels=ids, use_cache=False).loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step


@bench
def forward(p):
    model, ids = lm_model(p)
    model.eval()

    def step():
        with torch.inference_mode():
            return model(input_ids=ids, use_cache=False).logits

    return step


@bench
def decode(p):
    import transformers

    config = dict(p["config"])
    config = transformers.AutoConfig.for_model(config.pop("model_type"), **config)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config).eval()
    ids = torch.tensor(p["input_ids"])
    mask = torch.ones_like(ids)
    n = p["new_tokens"]

    def run():
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n, do_sample=False)
        assert out.shape[1] == ids.shape[1] + n

    return run


def rss_mb():
    """(current, peak) resident memory of this process in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, iters):
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    def reply(**fields):
        sys.stdout.write(json.dumps(fields) + "\n")
        sys.stdout.flush()

    reply(ok=True, torch=torch.__version__, threads=torch.get_num_threads())
    current = None
    for line in sys.stdin:
        try:
            msg = json.loads(line)
            cmd = msg["cmd"]
            if cmd == "prepare":
                if msg["bench"] not in BENCHES:
                    raise KeyError(f"no function for bench {msg['bench']!r} in bench/torch_worker.py")
                current = BENCHES[msg["bench"]](msg["params"])
                reply(ok=True)
            elif cmd == "time":
                if current is None:
                    raise RuntimeError("time before prepare")
                reply(ok=True, seconds=timed(current, int(msg["iters"])))
            elif cmd == "rss":
                current, peak = rss_mb()
                reply(ok=True, current_mb=current, peak_mb=peak)
            elif cmd == "release":
                current = None
                gc.collect()
                reply(ok=True)
            else:
                raise ValueError(f"unknown command {cmd!r}")
        except Exception as e:  # reported to the harness, which stops with the message
            traceback.print_exc(file=sys.stderr)
            reply(ok=False, error=f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
