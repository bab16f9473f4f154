// `mmft plugins`: the plugins this run would load (built-ins, plus any named with --plugin or by
// a recipe) and what each provides, grouped by kind.
import { Command } from 'commander';
import { readRecipe, type PluginRegistry } from '@mmft/core';
import type { CliContext } from '../context';
import { formatTable } from '../format/table';

/** Plugin specifiers named by a recipe (`plugins:`), resolved relative to the recipe. */
export function recipePlugins(recipeFile: string): { plugins: string[]; baseDir: string } {
  const raw = readRecipe(recipeFile);
  const list = raw.value.plugins;
  return { plugins: Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string') : [], baseDir: raw.baseDir };
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
      const fromRecipe = options.recipe ? recipePlugins(options.recipe) : { plugins: [], baseDir: ctx.cwd };
      const registry = await ctx.createRegistry([...(options.plugin ?? []), ...fromRecipe.plugins], fromRecipe.baseDir);
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
