// `mmft schema`: JSON Schema of recipes for the loaded plugins, so editors complete and check
// recipe files (YAML language server: `# yaml-language-server: $schema=recipe.schema.json`).
import * as fs from 'node:fs';
import { Command } from 'commander';
import { recipeJsonSchema } from '@mmft/core';
import type { CliContext } from '../context';

export function schemaCommand(ctx: CliContext): Command {
  return new Command('schema')
    .description('print the JSON Schema of recipe files for the loaded plugins')
    .option('--plugin <specifier...>', 'also load these plugin packages')
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (options: { plugin?: string[]; out?: string }) => {
      const registry = await ctx.createRegistry(options.plugin ?? []);
      const text = `${JSON.stringify(recipeJsonSchema(registry), null, 2)}\n`;
      if (options.out) fs.writeFileSync(options.out, text);
      else ctx.stdout.write(text);
    });
}
