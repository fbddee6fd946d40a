"""Live parity of `peftjs merge`, Python side: every <out_dir>/<case>/merged/ written by
tools/parity/make-ts-merges.ts must load with transformers' AutoModelForCausalLM.from_pretrained
without missing, unexpected or mismatched keys and without warnings, and reproduce the logits of the
unmerged peft.js PeftModel recorded in <out_dir>/<case>/ts-outputs.safetensors within 1e-4. Warnings
that loading the base model folder (the adapter's base_model_name_or_path) gives too, e.g. about its
config, are not the merge's and are not counted.
Prints one line per case and, last, `RESULT cases=<n> failures=<k>`. Exit status 1 on failures,
2 when the Python stack cannot be imported.

usage: check_ts_merges.py <out_dir>
"""
import json
import logging
import os
import sys
import warnings

from _report import run_cases

try:
    import torch
    import transformers as tf
    from safetensors.torch import load_file
except ImportError as e:
    print(f"parity: cannot import torch/transformers/safetensors ({e}); run tools/setup-python.sh")
    print("RESULT cases=0 failures=0")
    sys.exit(2)

tf.utils.logging.disable_progress_bar()
tf.utils.logging.disable_default_handler()  # load() collects the warnings; the base config's own ones are no finding
ATOL = 1e-4


class Collect(logging.Handler):
    """Keeps the warnings transformers logs while loading (its load report among them)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def load(folder):
    """The model, its loading info and the warnings given while loading it."""
    logger = logging.getLogger("transformers")
    collect = Collect()
    logger.addHandler(collect)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model, info = tf.AutoModelForCausalLM.from_pretrained(folder, output_loading_info=True)
    finally:
        logger.removeHandler(collect)
    messages = [str(w.message) for w in caught if not issubclass(w.category, (DeprecationWarning, FutureWarning))]
    return model, info, messages + collect.messages


def check_case(case_dir):
    """Returns the problems (none when the case passes) and the largest logit difference."""
    problems = []
    ts = load_file(os.path.join(case_dir, "ts-outputs.safetensors"))
    with open(os.path.join(case_dir, "adapter", "adapter_config.json")) as f:
        base_folder = json.load(f)["base_model_name_or_path"]
    _, _, base_messages = load(base_folder)
    model, info, messages = load(os.path.join(case_dir, "merged"))
    for kind in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
        if info.get(kind):
            problems.append(f"{kind}: {sorted(map(str, info[kind]))[:5]}")
    problems += [f"warning while loading: {m}" for m in messages if m not in base_messages]
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=ts["input_ids"].long(), attention_mask=ts["attention_mask"].long()).logits.float()
    expected = ts["logits"]
    if logits.shape != expected.shape:
        return problems + [f"logits: shape {tuple(logits.shape)} in Python vs {tuple(expected.shape)} from TS"], None
    diff = (logits - expected).abs().max().item()
    if not diff <= ATOL:
        problems.append(f"logits: max |merged in transformers - unmerged in peft.js| = {diff:.3g} > {ATOL}")
    return problems, diff


def check_with_note(case_dir):
    problems, diff = check_case(case_dir)
    return problems, None if diff is None else f"max logit difference {diff:.2g}"


def main(out_dir):
    return run_cases(out_dir, "merged->transformers", check_with_note)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
