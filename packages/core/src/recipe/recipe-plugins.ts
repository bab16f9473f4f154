// The plugins a recipe asks for, each with the file:line that listed it (so that a plugin that
// cannot be loaded is reported where the user wrote it) and that file's folder, which explicit
// ./paths resolve from: a parent reached through `extends:` names paths from its own folder.
import type { PluginRequest } from '../registry/load-plugin';
import type { RawRecipe } from './read-recipe';
import { formatOrigin, originOf } from './source-map';

/**
 * `plugins:` of a recipe as load requests.
 *
 * @example
 * for (const r of recipePluginRequests(raw)) await loadPluginInto(registry, r.specifier, { ...lookup, origin: r.origin, baseDir: r.baseDir });
 */
export function recipePluginRequests(raw: RawRecipe): PluginRequest[] {
  const list = raw.value.plugins;
  if (!Array.isArray(list)) return [];
  return list.flatMap((specifier, index) => {
    if (typeof specifier !== 'string') return [];
    const origin = originOf(raw.origins, ['plugins', index]);
    return [{ specifier, origin: formatOrigin(origin, raw.file), baseDir: origin?.dir ?? raw.baseDir }];
  });
}
