// PEFT's PeftType and TaskType enumerations; the string values are what adapter_config.json stores.

export const PeftType = {
  PROMPT_TUNING: 'PROMPT_TUNING',
  MULTITASK_PROMPT_TUNING: 'MULTITASK_PROMPT_TUNING',
  P_TUNING: 'P_TUNING',
  PREFIX_TUNING: 'PREFIX_TUNING',
  LORA: 'LORA',
  ADALORA: 'ADALORA',
  ADAMSS: 'ADAMSS',
  BOFT: 'BOFT',
  ADAPTION_PROMPT: 'ADAPTION_PROMPT',
  IA3: 'IA3',
  BEFT: 'BEFT',
  LILY: 'LILY',
  LOHA: 'LOHA',
  LOKR: 'LOKR',
  OFT: 'OFT',
  POLY: 'POLY',
  LN_TUNING: 'LN_TUNING',
  VERA: 'VERA',
  FROD: 'FROD',
  PVERA: 'PVERA',
  FOURIERFT: 'FOURIERFT',
  GLORA: 'GLORA',
  XLORA: 'XLORA',
  HRA: 'HRA',
  VBLORA: 'VBLORA',
  UNILORA: 'UNILORA',
  CPT: 'CPT',
  MISS: 'MISS',
  RANDLORA: 'RANDLORA',
  ROAD: 'ROAD',
  TRAINABLE_TOKENS: 'TRAINABLE_TOKENS',
  HIRA: 'HIRA',
  SHIRA: 'SHIRA',
  C3A: 'C3A',
  WAVEFT: 'WAVEFT',
  OSF: 'OSF',
  DELORA: 'DELORA',
  GRALORA: 'GRALORA',
  CARTRIDGE: 'CARTRIDGE',
  TINYLORA: 'TINYLORA',
  PSOFT: 'PSOFT',
  PEANUT: 'PEANUT',
  SHADOW: 'SHADOW',
  SUPERTUNING: 'SUPERTUNING',
  DEFT: 'DEFT',
} as const;
export type PeftType = (typeof PeftType)[keyof typeof PeftType];

export const TaskType = {
  SEQ_CLS: 'SEQ_CLS',
  SEQ_2_SEQ_LM: 'SEQ_2_SEQ_LM',
  CAUSAL_LM: 'CAUSAL_LM',
  TOKEN_CLS: 'TOKEN_CLS',
  QUESTION_ANS: 'QUESTION_ANS',
  FEATURE_EXTRACTION: 'FEATURE_EXTRACTION',
} as const;
export type TaskType = (typeof TaskType)[keyof typeof TaskType];

export function isPeftType(value: unknown): value is PeftType {
  return typeof value === 'string' && Object.hasOwn(PeftType, value);
}
