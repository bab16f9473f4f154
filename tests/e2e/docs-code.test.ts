// The docs' programmatic examples run as written: every ```js runnable / ```ts runnable block of
// docs/*.md and the README is run with node from the repository root, as a user who saved it as
// a script there would (`node example.mjs`); ts blocks only lose their types first. A block must
// exit 0 and leave nothing new in the repository root.
import { describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as ts from 'typescript';
import { allBlocks, isRunnable, parseBlocks, REPO_ROOT, where, type DocBlock } from './docs-blocks';

interface BlockRun {
  readonly code: number | null;
  readonly output: string;
}

/** The block as an ES module: ts loses its types, nothing else changes. */
export function moduleSource(block: DocBlock): string {
  if (block.lang === 'js' || block.lang === 'javascript') return block.code;
  return ts.transpileModule(block.code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    reportDiagnostics: false,
  }).outputText;
}

/** Runs the block as `node --input-type=module` from the repository root (imports resolve from there). */
function runBlock(block: DocBlock, timeoutMs = 90_000): Promise<BlockRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--input-type=module'],
      { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
    child.stdin!.end(moduleSource(block));
  });
}

const runnable = allBlocks().filter(isRunnable);

describe('runnable code blocks in the docs', () => {
  test('docs/clip.md has a runnable example', () => {
    expect(runnable.map(where).some((name) => name.startsWith('docs/clip.md:'))).toBe(true);
  });

  test.each(runnable.map((block) => [where(block), block] as const))('%s runs from the repository root', async (_name, block) => {
    const before = new Set(fs.readdirSync(REPO_ROOT));
    const run = await runBlock(block);
    const added = fs.readdirSync(REPO_ROOT).filter((name) => !before.has(name));
    expect({ code: run.code, added, output: run.code === 0 ? '' : run.output }).toEqual({ code: 0, added: [], output: '' });
  });
});

describe('the runner itself', () => {
  test('a failing block fails with its output; ts blocks lose their types', async () => {
    const [failing, typed] = parseBlocks(
      `${REPO_ROOT}/fake.md`,
      [
        '```js runnable',
        "import { ClipModel } from '@mmft/no-such-package';",
        '```',
        '```ts runnable',
        'const n: number = 2;',
        'if (n !== 2) process.exit(3);',
        '```',
      ].join('\n'),
    ) as [DocBlock, DocBlock];
    const run = await runBlock(failing);
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('@mmft/no-such-package');
    expect(moduleSource(typed)).not.toContain(': number');
    expect((await runBlock(typed)).code).toBe(0);
  });
});
