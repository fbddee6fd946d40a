// The projection settings VeRA and RandLoRA configs share (projection_prng_key, save_projection), checked as PEFT does.
import { fail, type ParseContext } from '../utils/config-fields.js';
import { warn } from '../utils/warnings.js';

/**
 * The key seeds torch's generator, which takes integers of at most 64 bits; not saving the projections (`what`, e.g.
 * "vera_A and vera_B") warns that they will be regenerated from it.
 */
export function checkProjectionSettings(config: { projectionPrngKey: number; saveProjection: boolean }, ctx: ParseContext, what: string): void {
  if (!Number.isSafeInteger(config.projectionPrngKey)) fail('projection_prng_key', ctx, `must be an integer of at most 53 bits, got ${config.projectionPrngKey}`);
  if (!config.saveProjection) {
    warn(
      `save_projection is false: ${what} are not saved with the adapter but regenerated from projection_prng_key ` +
        'when it is loaded. Set save_projection to true to make the checkpoint restore exactly on every system.',
    );
  }
}
