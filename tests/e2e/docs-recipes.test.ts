// Every YAML recipe snippet in docs/*.md and the README validates against the real schemas of the
// built-in plugins (core's readRecipe + validateRecipe, as `mmft train` does), so the docs cannot
// show keys the schemas reject. Fragments say where they sit (`yaml at=data.train`); snippets that
// are deliberately incomplete say so (`yaml partial`) and are skipped by that marker alone.
import 'reflect-metadata';
import { afterAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createCliContext } from '@mmft/cli';
import { readRecipe, validateRecipe } from '@mmft/core';
import { allBlocks, isYaml, parseBlocks, where, type DocBlock } from './docs-blocks';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-docs-recipes-'));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

/** The snippet as a recipe file: a fragment is indented under the path its `at=` marker names. */
function recipeText(block: DocBlock): string {
  const at = block.markers.get('at');
  if (at === undefined) return block.code;
  if (!/^[a-z_]+(\.[a-z_]+)*$/.test(at))
    throw new Error(`${where(block)}: at=${at} must be a dotted path of recipe keys, e.g. at=data.train`);
  const keys = at.split('.');
  const head = keys.map((key, depth) => `${'  '.repeat(depth)}${key}:`);
  const indent = '  '.repeat(keys.length);
  return [...head, ...block.code.split('\n').map((line) => (line.trim() === '' ? line : indent + line))].join('\n');
}

let counter = 0;

/** Validates one snippet; 'skipped' only for `partial`. Throws with the doc's file:line on failure. */
async function checkRecipeBlock(block: DocBlock): Promise<'validated' | 'skipped'> {
  if (block.markers.has('partial')) return 'skipped';
  const file = path.join(TMP, `snippet-${++counter}.yaml`);
  fs.writeFileSync(file, recipeText(block));
  try {
    const raw = readRecipe(file);
    const named = Array.isArray(raw.value.plugins) ? (raw.value.plugins as string[]) : [];
    // Plugins a snippet names (the README's third-party example) are installed in tests/, as in
    // a user's project next to the recipe.
    const registry = await createCliContext({ cwd: path.join(__dirname, '..') }).createRegistry(named, raw.baseDir);
    validateRecipe(raw, registry);
    return 'validated';
  } catch (error) {
    throw new Error(
      `${where(block)}: recipe snippet does not validate (mark it \`yaml partial\` only if it is deliberately incomplete):\n${(error as Error).message}`,
      { cause: error },
    );
  }
}

const yamlBlocks = allBlocks().filter(isYaml);

describe('recipe snippets in the docs', () => {
  test('the docs have recipe snippets to check', () => {
    expect(yamlBlocks.filter((b) => !b.markers.has('partial')).length).toBeGreaterThan(3);
  });

  test.each(yamlBlocks.map((block) => [where(block), block] as const))('%s', async (_name, block) => {
    await checkRecipeBlock(block);
  });
});

describe('the snippet check itself', () => {
  const doc = [
    'text',
    '```yaml',
    'model: { type: clip, pretrained: ./models/x }',
    '```',
    '```yaml partial',
    'model: { type: clip, pretrained: ./models/x }',
    '```',
    '```yaml at=train',
    'type: standard',
    'eval_only: true',
    '```',
    '```yaml at=data.train',
    '{ type: shapes, task: retrival, domain: B }',
    '```',
  ].join('\n');
  const [unmarked, partial, fragment, typo] = parseBlocks(path.join(TMP, 'fake.md'), doc) as [DocBlock, DocBlock, DocBlock, DocBlock];

  test('an unmarked invalid snippet fails, naming the doc line and the bad key', async () => {
    await expect(checkRecipeBlock(unmarked)).rejects.toThrow(/fake\.md:2: recipe snippet does not validate[\s\S]*pretrained/);
  });

  test('a partial snippet is skipped by its marker; a fragment is validated where at= puts it', async () => {
    await expect(checkRecipeBlock(partial)).resolves.toBe('skipped');
    await expect(checkRecipeBlock(fragment)).resolves.toBe('validated');
    await expect(checkRecipeBlock(typo)).rejects.toThrow(/fake\.md:12[\s\S]*data\.train\.task/);
  });
});
