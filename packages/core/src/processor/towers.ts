// Named towers of a model (ModelProcessor.towers): tower names → parameter-name globs, so a recipe
// writes `freeze: [vision]` for any architecture, as LLaVA's recipes freeze vision_tower and
// language_model by part rather than by name. Also which tower each parameter belongs to, which
// describeArchitecture uses to check that the towers cover the model.
import type { ModelTowers } from '../contracts/model';
import { MmftError } from '../errors';
import { toNameMatcher } from '../nn/naming';

/**
 * `entries` with every tower name replaced by its globs; other entries are kept as globs.
 *
 * @example
 * expandTowers(['vision', 'text_model.embeddings.**'], { vision: ['vision_model.**'] });
 * // ['vision_model.**', 'text_model.embeddings.**']
 */
export function expandTowers(entries: readonly string[], towers: ModelTowers): string[] {
  return entries.flatMap((entry) => (Object.prototype.hasOwnProperty.call(towers, entry) ? [...towers[entry]!] : [entry]));
}

/**
 * The globs of tower `name`; a model without it is an E_CONFIG listing the towers it has.
 *
 * @example
 * towerPatterns(model.processor.towers, 'vision', 'train.strategy lock-image');
 */
export function towerPatterns(towers: ModelTowers, name: string, where: string): readonly string[] {
  const globs = Object.prototype.hasOwnProperty.call(towers, name) ? towers[name]! : undefined;
  if (globs && globs.length > 0) return globs;
  const known = Object.keys(towers);
  throw new MmftError(
    'E_CONFIG',
    `${where}: the model declares no "${name}" tower; its towers: ${known.length > 0 ? known.join(', ') : '(none)'}`,
    {
      hint: 'freeze by parameter-name globs instead (train.freeze: ["prefix.**"]), or use a model whose architecture declares the tower',
    },
  );
}

/**
 * The towers whose globs match parameter `name` (one for a well-formed model).
 *
 * @example
 * towersOf({ vision: ['vision_model.**'], head: ['logit_scale'] }, 'logit_scale'); // ['head']
 */
export function towersOf(towers: ModelTowers, name: string): string[] {
  return Object.entries(towers)
    .filter(([, globs]) => globs.some((glob) => toNameMatcher(glob)(name)))
    .map(([tower]) => tower);
}
