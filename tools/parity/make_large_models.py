"""Random GPT-2-small (124M) and SmolLM-135M-shaped (Llama) models built with transformers, saved
with fixed inputs and their logits, for the forward-parity check at full size (too large to commit:
the parity runner regenerates them). Usage: make_large_models.py <out-dir>"""
import os
import sys

import torch
import transformers as tf
from safetensors.torch import save_file

out = sys.argv[1]
CASES = {
    "gpt2-small": lambda: tf.GPT2LMHeadModel(tf.GPT2Config(attn_implementation="eager")),
    "smollm-135m": lambda: tf.LlamaForCausalLM(tf.LlamaConfig(
        vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
        num_key_value_heads=3, max_position_embeddings=2048, rms_norm_eps=1e-5, tie_word_embeddings=True,
        rope_parameters={"rope_type": "default", "rope_theta": 100000.0}, attn_implementation="eager")),
}
for name, build in CASES.items():
    torch.manual_seed(0)
    model = build().eval()
    folder = os.path.join(out, name)
    model.save_pretrained(folder, safe_serialization=True)
    ids = torch.randint(0, model.config.vocab_size, (2, 32), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    save_file({"input_ids": ids.to(torch.int32), "logits": logits.float().contiguous()}, os.path.join(folder, "io.safetensors"))
    print(f"{name}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters -> {folder}")
