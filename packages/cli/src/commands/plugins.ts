// `mmft plugins`: the plugins this run would load (built-ins, plus any named with --plugin or by
// a recipe) and what each provides, grouped by kind.
import * as path from 'node:path';
import { Command } from 'commander';
import { readRecipe, recipePluginRequests, type PluginRegistry, type PluginRequest } from '@mmft/core';
import type { CliContext } from '../context';
import { formatTable } from '../format/table';

/** Plugins named by a recipe (`plugins:`), each with the file:line and folder that named it. */
export function recipePlugins(recipeFile: string): { plugins: PluginRequest[]; baseDir: string } {
  const raw = readRecipe(recipeFile);
  return { plugins: recipePluginRequests(raw), baseDir: raw.baseDir };
}

function describeRegistry(registry: PluginRegistry): Array<Record<string, string>> {
  return registry.plugins().flatMap(({ plugin, source }) =>
    plugin.provides.map((provider) => ({
      plugin: `${plugin.meta.name}@${plugin.meta.version}`,
      kind: provider.kind,
      id: provider.id,
      description: provider.description,
      source,
    })),
  );
}

export function pluginsCommand(ctx: CliContext): Command {
  return new Command('plugins')
    .description('list loaded plugins and what each provides')
    .option('--plugin <specifier...>', 'also load these plugin packages (npm names or explicit ./paths)')
    .option('--recipe <file>', "also load the plugins a recipe's plugins: list names")
    .option('--json', 'print JSON')
    .action(async (options: { plugin?: string[]; recipe?: string; json?: boolean }) => {
      const fromRecipe = options.recipe ? recipePlugins(path.resolve(ctx.cwd, options.recipe)) : { plugins: [], baseDir: ctx.cwd };
      const fromFlag = (options.plugin ?? []).map((specifier) => ({ specifier, origin: '--plugin', baseDir: ctx.cwd }));
      const registry = await ctx.createRegistry([...fromFlag, ...fromRecipe.plugins], fromRecipe.baseDir);
      const rows = describeRegistry(registry);
      if (options.json) {
        ctx.print(JSON.stringify(rows, null, 2));
        return;
      }
      if (rows.length === 0) {
        ctx.print('no plugins loaded');
        return;
      }
      ctx.print(formatTable(rows, ['plugin', 'kind', 'id', 'description']));
    });
}
