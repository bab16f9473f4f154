// Finds the fenced code blocks of the docs that the docs tests run or validate. A block's info
// string is its language, then markers (see docs/architecture.md, "The docs are tested"):
//   ```js runnable / ```ts runnable   run with node from the repository root
//   ```yaml                           a whole recipe: must validate against the real schemas
//   ```yaml at=data.train             a recipe fragment: validated under that path
//   ```yaml partial                   deliberately incomplete or not a recipe: skipped, by name
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** One fenced block: where it starts (file:line of the opening fence), language, markers, text. */
export interface DocBlock {
  readonly file: string;
  readonly line: number;
  readonly lang: string;
  readonly markers: ReadonlyMap<string, string>;
  readonly code: string;
}

/** `file:line` relative to the repository root, for test names and messages. */
export const where = (block: DocBlock): string => `${path.relative(REPO_ROOT, block.file)}:${block.line}`;

/** Every fenced block of a Markdown text (``` or ~~~ fences, indented up to 3 spaces as CommonMark allows). */
export function parseBlocks(file: string, text: string): DocBlock[] {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(lines[j]!);
      if (close && close[1]![0] === fence[0] && close[1]!.length >= fence.length) break;
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!.trimStart());
    }
    const [lang = '', ...words] = info.trim().split(/\s+/);
    const markers = new Map(
      words.filter(Boolean).map((word) => {
        const eq = word.indexOf('=');
        return eq < 0 ? [word, ''] : [word.slice(0, eq), word.slice(eq + 1)];
      }),
    );
    blocks.push({ file, line: i + 1, lang: lang.toLowerCase(), markers, code: body.join('\n') });
    i = j;
  }
  return blocks;
}

/** The Markdown files whose blocks are tested: docs/*.md and the README. */
export function docFiles(): string[] {
  const docs = path.join(REPO_ROOT, 'docs');
  return [
    path.join(REPO_ROOT, 'README.md'),
    ...fs
      .readdirSync(docs)
      .filter((name) => name.endsWith('.md'))
      .sort()
      .map((name) => path.join(docs, name)),
  ];
}

export function allBlocks(): DocBlock[] {
  return docFiles().flatMap((file) => parseBlocks(file, fs.readFileSync(file, 'utf8')));
}

export const isYaml = (block: DocBlock): boolean => block.lang === 'yaml' || block.lang === 'yml';
export const isRunnable = (block: DocBlock): boolean =>
  ['js', 'javascript', 'ts', 'typescript'].includes(block.lang) && block.markers.has('runnable');
