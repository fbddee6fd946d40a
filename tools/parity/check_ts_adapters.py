"""Live parity, TS → Python: loads every adapter peft.js wrote under <out_dir>/<case>/ with the real PEFT and
checks that it loads without warnings and reproduces the outputs peft.js recorded next to it.

<out_dir>/<case>/ holds what PeftModel.savePretrained wrote (adapter_config.json, adapter_model.safetensors, further
adapters in subfolders) and ts-outputs.safetensors: the inputs (int32) and the TS outputs under the names of
tests/fixtures/peft/adapters/*/expected.safetensors (active.<out>, <name>.active.<out>, mixed.<out>, disabled.<out>,
merged.<out>); prompt-learning adapters (prompt tuning, p-tuning, prefix tuning) only have active.<out>, the outputs
with the prompts in; adaption prompts have no merged.<out>. Prints one line per case and, last, `RESULT cases=<n> failures=<k>`. Exit status 1 on failures,
2 when the Python stack cannot be imported.

usage: check_ts_adapters.py <out_dir>
"""
import importlib.util
import os
import sys
import warnings

from _report import run_cases

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

try:
    import peft
    import torch
    import transformers as tf
    from peft import PeftConfig, PeftModel
    from safetensors.torch import load_file
except ImportError as e:
    print(f"parity: cannot import torch/transformers/peft/safetensors ({e}); run tools/setup-python.sh")
    print("RESULT cases=0 failures=0")
    sys.exit(2)

_spec = importlib.util.spec_from_file_location("_peft_compat", os.path.join(ROOT, "tools", "fixtures", "_peft_compat.py"))
_compat = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_compat)

tf.logging.set_verbosity_error()
ATOL = 1e-4
AUTO = {
    "CAUSAL_LM": tf.AutoModelForCausalLM,
    "SEQ_CLS": tf.AutoModelForSequenceClassification,
    "TOKEN_CLS": tf.AutoModelForTokenClassification,
    "QUESTION_ANS": tf.AutoModelForQuestionAnswering,
    "SEQ_2_SEQ_LM": tf.AutoModelForSeq2SeqLM,
}
INPUT_KEYS = ("input_ids", "attention_mask", "token_type_ids", "decoder_input_ids")


def outputs(model, inputs, **kwargs):
    with torch.no_grad():
        res = model(**inputs, **kwargs)
    names = ("start_logits", "end_logits") if getattr(res, "start_logits", None) is not None else ("logits",)
    return {n: getattr(res, n).float() for n in names}


def compare(label, ours, theirs, problems):
    for name, value in ours.items():
        key = f"{label}.{name}"
        if key not in theirs:
            problems.append(f"TS outputs lack {key}")
            continue
        expected = theirs[key]
        if value.shape != expected.shape:
            problems.append(f"{key}: shape {tuple(value.shape)} in Python vs {tuple(expected.shape)} from TS")
            continue
        diff = (value - expected).abs().max().item()
        if not diff <= ATOL:
            problems.append(f"{key}: max |Python - TS| = {diff:.3g} > {ATOL}")


def expected_warning(config, message):
    """PEFT checks an AdaLoRA rank_pattern's keys (lora_E parameter names) as if they were LoRA rank patterns when it
    loads one, and warns that none matches a module; the adapter still loads resized. VeRA adapters saved without
    their projections warn, by design, that they are regenerated from the key, and so do RandLoRA configs without their
    bases. PEFT's LN tuning layers ask every
    wrapped norm for its in/out features and warn that its type is unsupported, whoever saved the adapter. PEFT's BOFT
    layers try to build its CUDA block-diagonal extension, warn that it failed and that they compute one butterfly
    factor."""
    if config.peft_type == "ADALORA":
        return str(message).startswith("The following rank_pattern keys did not match")
    if config.peft_type == "LN_TUNING":
        return str(message).startswith("Unsupported layer type")
    if config.peft_type == "BOFT":
        return str(message).startswith(("Failed to load the CUDA extension", "Setting boft_n_butterfly_factor to 1"))
    if config.peft_type == "RANDLORA":
        return not config.save_projection and str(message).startswith("Specified to not save basis_A and basis_B")
    return config.peft_type == "VERA" and not config.save_projection and "vera_A and vera_B" in str(message)


def check_case(case_dir):
    """Returns a list of problems (empty when the case passes)."""
    problems = []
    ts = load_file(os.path.join(case_dir, "ts-outputs.safetensors"))
    inputs = {k: ts[k].long() for k in INPUT_KEYS if k in ts}
    config = PeftConfig.from_pretrained(case_dir)
    base = AUTO[config.task_type].from_pretrained(os.path.join(ROOT, config.base_model_name_or_path))
    if config.task_type == "SEQ_2_SEQ_LM":
        _compat.seq2seq_compat(base)
    extra = sorted(d for d in os.listdir(case_dir) if os.path.isfile(os.path.join(case_dir, d, "adapter_config.json")))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = PeftModel.from_pretrained(base, case_dir)
        for name in extra:
            model.load_adapter(os.path.join(case_dir, name), adapter_name=name)
    for w in caught:
        if not issubclass(w.category, (DeprecationWarning, FutureWarning)) and not expected_warning(config, w.message):
            problems.append(f"warning while loading: {w.message}")
    model.eval()
    compare("active", outputs(model, inputs), ts, problems)
    for name in extra:
        model.set_adapter(name)
        compare(f"{name}.active", outputs(model, inputs), ts, problems)
    model.set_adapter("default")
    if config.is_prompt_learning:
        return problems
    if "mixed.logits" in ts and extra:
        batch = inputs["input_ids"].shape[0]
        names = [extra[0], "__base__"] * batch
        compare("mixed", outputs(model, inputs, adapter_names=names[:batch]), ts, problems)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with model.disable_adapter():
            compare("disabled", outputs(model, inputs), ts, problems)
    if config.peft_type == "ADAPTION_PROMPT":
        return problems  # nothing to merge
    model.merge_adapter()
    compare("merged", outputs(model, inputs), ts, problems)
    return problems


def main(out_dir):
    print(f"parity: python reference torch {torch.__version__}, transformers {tf.__version__}, peft {peft.__version__}")
    return run_cases(out_dir, "ts->python", lambda case_dir: (check_case(case_dir), None))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
