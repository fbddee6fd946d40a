// Constants of PEFT's wire format and target-module resolution (peft/utils/constants.py, PEFT 0.21).

/** The adapter configuration file inside an adapter folder. */
export const CONFIG_NAME = 'adapter_config.json';

/** The PEFT release whose format we write; recorded as `peft_version` when a config does not carry one. */
export const PEFT_VERSION = '0.21.0';

/** `target_modules` value (any case) that selects every Linear / Conv1D layer except the output head. */
export const INCLUDE_LINEAR_LAYERS_SHORTHAND = 'all-linear';

/** `target_modules` value that is allowed to match nothing. */
export const DUMMY_TARGET_MODULES = 'dummy-target-modules';

/** Classification heads excluded from "all-linear" for SEQ_CLS models without an output embedding. */
export const SEQ_CLS_HEAD_NAMES = ['score', 'classifier'] as const;

/** From this many target names on, they are condensed to the shortest distinguishing suffixes. */
export const MIN_TARGET_MODULES_FOR_OPTIMIZATION = 20;

/** Default LoRA targets per transformers `model_type` when `target_modules` is not given (a string is a regex). */
export const TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING: Readonly<Record<string, string | readonly string[]>> = {
  t5: ['q', 'v'],
  mt5: ['q', 'v'],
  bart: ['q_proj', 'v_proj'],
  gpt2: ['c_attn'],
  bloom: ['query_key_value'],
  'blip-2': ['q', 'v', 'q_proj', 'v_proj'],
  opt: ['q_proj', 'v_proj'],
  gptj: ['q_proj', 'v_proj'],
  gpt_neox: ['query_key_value'],
  gpt_neo: ['q_proj', 'v_proj'],
  bert: ['query', 'value'],
  roberta: ['query', 'value'],
  'xlm-roberta': ['query', 'value'],
  electra: ['query', 'value'],
  'deberta-v2': ['query_proj', 'value_proj'],
  deberta: ['in_proj'],
  layoutlm: ['query', 'value'],
  llama: ['q_proj', 'v_proj'],
  llama4: ['q_proj', 'v_proj'],
  chatglm: ['query_key_value'],
  gpt_bigcode: ['c_attn'],
  mpt: ['Wqkv'],
  RefinedWebModel: ['query_key_value'],
  RefinedWeb: ['query_key_value'],
  falcon: ['query_key_value'],
  btlm: ['c_proj', 'c_attn'],
  codegen: ['qkv_proj'],
  mistral: ['q_proj', 'v_proj'],
  mixtral: ['q_proj', 'v_proj'],
  stablelm: ['q_proj', 'v_proj'],
  phi: ['q_proj', 'v_proj', 'fc1', 'fc2'],
  gemma: ['q_proj', 'v_proj'],
  gemma2: ['q_proj', 'v_proj'],
  gemma3_text: ['q_proj', 'v_proj'],
  gemma4: '.*language_model\\..*\\.(q_proj|v_proj)',
  qwen2: ['q_proj', 'v_proj'],
  qwen3: ['q_proj', 'v_proj'],
  nemotron_h: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
  rwkv: ['key', 'value', 'receptance', 'output'],
  rwkv7: ['r_proj', 'k_proj', 'v_proj', 'o_proj', 'key', 'value'],
};

/** LoHa, LoKr, OFT and BOFT default targets: PEFT copies the LoRA table for them. */
export const TRANSFORMERS_MODELS_TO_LOHA_TARGET_MODULES_MAPPING = TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING;
export const TRANSFORMERS_MODELS_TO_LOKR_TARGET_MODULES_MAPPING = TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING;
export const TRANSFORMERS_MODELS_TO_OFT_TARGET_MODULES_MAPPING = TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING;
export const TRANSFORMERS_MODELS_TO_BOFT_TARGET_MODULES_MAPPING = TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING;

/** Default VeRA targets per `model_type`: LoRA's table, except that Phi keeps only the attention projections. */
export const TRANSFORMERS_MODELS_TO_VERA_TARGET_MODULES_MAPPING: Readonly<Record<string, string | readonly string[]>> = {
  ...TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING,
  phi: ['q_proj', 'v_proj'],
};

/** Parameter-name prefixes that are not `<peft_type in lower case>_` (PEFT_TYPE_TO_PREFIX_MAPPING), for the methods we have. */
export const NON_DEFAULT_PEFT_PREFIXES: Readonly<Record<string, string>> = { LOHA: 'hada_', VERA: 'vera_lambda_' };

/** Default (IA)³ targets per transformers `model_type` when `target_modules` is not given. */
export const TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING: Readonly<Record<string, readonly string[]>> = {
  t5: ['k', 'v', 'wo'],
  mt5: ['k', 'v', 'wi_1'],
  gpt2: ['c_attn', 'mlp.c_proj'],
  bloom: ['query_key_value', 'mlp.dense_4h_to_h'],
  roberta: ['key', 'value', 'output.dense'],
  opt: ['q_proj', 'k_proj', 'fc2'],
  gptj: ['q_proj', 'v_proj', 'fc_out'],
  gpt_neox: ['query_key_value', 'dense_4h_to_h'],
  gpt_neo: ['q_proj', 'v_proj', 'c_proj'],
  bart: ['q_proj', 'v_proj', 'fc2'],
  gpt_bigcode: ['c_attn', 'mlp.c_proj'],
  llama: ['k_proj', 'v_proj', 'down_proj'],
  llama4: ['q_proj', 'v_proj', 'down_proj'],
  mistral: ['k_proj', 'v_proj', 'down_proj'],
  mixtral: ['k_proj', 'v_proj', 'w2'],
  bert: ['key', 'value', 'output.dense'],
  'deberta-v2': ['key_proj', 'value_proj', 'output.dense'],
  deberta: ['in_proj', 'output.dense'],
  RefinedWebModel: ['query_key_value', 'dense_4h_to_h'],
  RefinedWeb: ['query_key_value', 'dense_4h_to_h'],
  falcon: ['query_key_value', 'dense_4h_to_h'],
  phi: ['q_proj', 'v_proj', 'fc2'],
  gemma: ['q_proj', 'v_proj', 'down_proj'],
  gemma2: ['q_proj', 'v_proj', 'down_proj'],
  gemma3_text: ['q_proj', 'v_proj', 'down_proj'],
  qwen2: ['q_proj', 'v_proj', 'down_proj'],
  qwen3: ['q_proj', 'v_proj', 'down_proj'],
};

/** Default (IA)³ feedforward modules (input scaled instead of output) per `model_type`. */
export const TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING: Readonly<Record<string, readonly string[]>> = {
  t5: ['wo'],
  mt5: [],
  gpt2: ['mlp.c_proj'],
  bloom: ['mlp.dense_4h_to_h'],
  roberta: ['output.dense'],
  opt: ['fc2'],
  gptj: ['fc_out'],
  gpt_neox: ['dense_4h_to_h'],
  gpt_neo: ['c_proj'],
  bart: ['fc2'],
  gpt_bigcode: ['mlp.c_proj'],
  llama: ['down_proj'],
  llama4: ['down_proj'],
  mistral: ['down_proj'],
  mixtral: ['w2'],
  bert: ['output.dense'],
  'deberta-v2': ['output.dense'],
  deberta: ['output.dense'],
  RefinedWeb: ['dense_4h_to_h'],
  RefinedWebModel: ['dense_4h_to_h'],
  falcon: ['dense_4h_to_h'],
  phi: ['fc2'],
  gemma: ['down_proj'],
  gemma2: ['down_proj'],
  gemma3_text: ['down_proj'],
  qwen2: ['down_proj'],
  qwen3: ['down_proj'],
};

/** Default AdaLoRA targets per transformers `model_type` when `target_modules` is not given (a string is a regex). */
export const TRANSFORMERS_MODELS_TO_ADALORA_TARGET_MODULES_MAPPING: Readonly<Record<string, string | readonly string[]>> = {
  t5: ['q', 'k', 'v', 'o', 'wi', 'wo'],
  mt5: ['q', 'k', 'v', 'o', 'wi_0', 'wi_1', 'wo'],
  bart: ['q_proj', 'k_proj', 'v_proj', 'out_proj', 'fc1', 'fc2'],
  gpt2: ['c_attn'],
  bloom: ['query_key_value'],
  opt: ['q_proj', 'k_proj', 'v_proj', 'out_proj', 'fc1', 'fc2'],
  gptj: ['q_proj', 'v_proj'],
  gpt_neox: ['query_key_value'],
  gpt_neo: ['q_proj', 'v_proj'],
  llama: ['q_proj', 'v_proj'],
  llama4: ['q_proj', 'v_proj'],
  bert: ['query', 'value'],
  roberta: ['query', 'key', 'value', 'dense'],
  'deberta-v2': ['query_proj', 'key_proj', 'value_proj', 'dense'],
  gpt_bigcode: ['c_attn'],
  deberta: ['in_proj'],
  gemma: ['q_proj', 'v_proj'],
  gemma2: ['q_proj', 'v_proj'],
  gemma3_text: ['q_proj', 'v_proj'],
  gemma4: '.*language_model\\..*\\.(q_proj|v_proj)',
  qwen2: ['q_proj', 'v_proj'],
  qwen3: ['q_proj', 'v_proj'],
  nemotron_h: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
};

/** Default LN tuning targets (the norm layers, a few multimodal projections and embeddings) per transformers `model_type`. */
export const TRANSFORMERS_MODELS_TO_LNTUNING_TARGET_MODULES_MAPPING: Readonly<Record<string, readonly string[]>> = {
  llama: ['input_layernorm', 'post_attention_layernorm', 'norm'],
  bloom: ['input_layernorm', 'post_attention_layernorm', 'ln_f'],
  llava: ['multi_modal_projector', 'input_layernorm', 'post_attention_layernorm', 'norm', 'embed_tokens', 'lm_head'],
  t5: ['layer_norm', 'final_layer_norm'],
  mt5: ['layer_norm', 'final_layer_norm'],
  bart: ['self_attn_layer_norm', 'encoder_attn_layer_norm', 'final_layer_norm'],
  gpt2: ['ln_1', 'ln_2', 'ln_f'],
  'blip-2': ['layernorm', 'LayerNorm', 'final_layer_norm', 'self_attn_layer_norm'],
  gptj: ['ln_1', 'ln_f'],
  falcon: ['input_layernorm', 'post_attention_layernorm', 'ln_f'],
  mistral: ['input_layernorm', 'post_attention_layernorm', 'norm'],
  phi: ['input_layernorm', 'final_layernorm'],
  gemma: ['input_layernorm', 'post_attention_layernorm', 'norm'],
  gemma2: ['input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm', 'norm'],
  gemma3_text: ['input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm', 'norm'],
  qwen2: ['post_attention_layernorm'],
  qwen3: ['post_attention_layernorm'],
};

/** HRA default targets: PEFT copies the LoRA table for them. */
export const TRANSFORMERS_MODELS_TO_HRA_TARGET_MODULES_MAPPING = TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING;
/** Default VB-LoRA targets per transformers `model_type`: AdaLoRA's table, except that RoBERTa keeps only query and value. */
export const TRANSFORMERS_MODELS_TO_VBLORA_TARGET_MODULES_MAPPING: Readonly<Record<string, string | readonly string[]>> = {
  ...TRANSFORMERS_MODELS_TO_ADALORA_TARGET_MODULES_MAPPING,
  roberta: ['query', 'value'],
};
/**
 * The attention submodule adaption prompts wrap, per transformers `model_type` PEFT supports (PEFT's
 * TRANSFORMERS_MODEL_CONFIG); other model types are refused.
 */
export const TRANSFORMERS_MODELS_TO_ADAPTION_PROMPT_TARGET_MODULES_MAPPING: Readonly<Record<string, string>> = {
  llama: 'self_attn',
  mistral: 'self_attn',
  gpt2: 'attn',
};
/** Default FourierFT targets: PEFT copies the LoRA table, with GPT-2 and GPTBigCode on mlp.c_proj only. */
export const TRANSFORMERS_MODELS_TO_FOURIERFT_TARGET_MODULES_MAPPING: Readonly<Record<string, string | readonly string[]>> = {
  ...TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING,
  gpt_bigcode: ['mlp.c_proj'],
  gpt2: ['mlp.c_proj'],
};

/** MiSS default targets: PEFT copies the LoRA table for them. */
export const TRANSFORMERS_MODELS_TO_MISS_TARGET_MODULES_MAPPING = TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING;
/** Default RandLoRA targets: PEFT copies the LoRA table. */
export const TRANSFORMERS_MODELS_TO_RANDLORA_TARGET_MODULES_MAPPING = TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING;
/** Default SHiRA targets: PEFT copies the LoRA table, with Phi on q_proj and v_proj. */
export const TRANSFORMERS_MODELS_TO_SHIRA_TARGET_MODULES_MAPPING: Readonly<Record<string, string | readonly string[]>> = {
  ...TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING,
  phi: ['q_proj', 'v_proj'],
};
