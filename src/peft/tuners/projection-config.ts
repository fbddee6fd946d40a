// What VeRA and RandLoRA configs share: one pair of frozen random projections drawn from projection_prng_key for every
// targeted layer, and the fields around them, checked as PEFT does.
import { PeftConfig, PEFT_CONFIG_FIELDS, strictContext, type PeftConfigOptions } from '../config.js';
import { bool, fail, field, int, listOf, nullable, str, stringSet, union, type Field, type ParseContext } from '../utils/config-fields.js';
import { checkPatterns, iterablesAsArrays } from '../utils/pattern-checks.js';
import { warn } from '../utils/warnings.js';

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';

/** The fields of a projection method, with its own (`r` and `methodFields`) where PEFT's config puts them. */
export function projectionFields(rField: Field, methodFields: readonly Field[]): readonly Field[] {
  return [
    ...PEFT_CONFIG_FIELDS,
    rField,
    field('target_modules', nullable(union(str, stringSet, isString)), () => null),
    field('projection_prng_key', int, () => 0),
    field('save_projection', bool, () => true),
    ...methodFields,
    field('modules_to_save', nullable(listOf(str)), () => null),
    field('init_weights', bool, () => true),
    field('layers_to_transform', nullable(union(int, listOf(int), isNumber)), () => null),
    field('layers_pattern', nullable(union(str, listOf(str), isString)), () => null),
  ];
}

export interface ProjectionConfigOptions extends PeftConfigOptions {
  /** Module names (exact or dot-suffix), one Python regex (full match), or "all-linear"; the model type's defaults when null. */
  targetModules?: string | Iterable<string> | null;
  /** Seed of torch's CPU generator that draws the projections; every adapter of a model must use the same. */
  projectionPrngKey?: number;
  /** Save the projections with the adapter; false regenerates them from projectionPrngKey on loading. */
  saveProjection?: boolean;
  fanInFanOut?: boolean;
  modulesToSave?: string[] | null;
  layersToTransform?: number | number[] | null;
  layersPattern?: string | string[] | null;
}

export abstract class ProjectionConfig extends PeftConfig {
  declare r: number;
  declare targetModules: string | Set<string> | null;
  declare projectionPrngKey: number;
  declare saveProjection: boolean;
  declare fanInFanOut: boolean;
  declare modulesToSave: string[] | null;
  declare initWeights: boolean;
  declare layersToTransform: number | number[] | null;
  declare layersPattern: string | string[] | null;
  // Target settings these methods do not have; matching reads them as unset.
  declare excludeModules: null;
  declare targetParameters: null;
  declare trainableTokenIndices: null;

  constructor(options: ProjectionConfigOptions) {
    super();
    this.assign(iterablesAsArrays(options, ['targetModules']), strictContext());
  }

  /** The projections' names for messages, e.g. "vera_A and vera_B". */
  protected abstract get projectionNames(): string;

  /** The method's dropout key and value, checked to lie in [0, 1]. */
  protected abstract get dropout(): [key: string, value: number];

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    Object.assign(this, { excludeModules: null, targetParameters: null, trainableTokenIndices: null });
    checkPatterns(this, ctx);
    const [key, p] = this.dropout;
    if (p < 0 || p > 1) fail(key, ctx, `must be between 0 and 1, got ${p}`);
    // The key seeds torch's generator, which takes integers of at most 64 bits; JSON numbers past 53 bits lose digits.
    if (!Number.isSafeInteger(this.projectionPrngKey)) fail('projection_prng_key', ctx, `must be an integer of at most 53 bits, got ${this.projectionPrngKey}`);
    if (!this.saveProjection) {
      warn(
        `save_projection is false: ${this.projectionNames} are not saved with the adapter but regenerated from projection_prng_key ` +
          'when it is loaded. Set save_projection to true to make the checkpoint restore exactly on every system.',
      );
    }
  }
}
