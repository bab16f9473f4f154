// scripts/new-plugin.mjs writes a plugin skeleton for every kind that compiles against core as
// built (the provider typed by its kind's contract, the manifest by definePlugin, the test by the
// kind's conformance kit or a registration test). Generated into a temp folder and type-checked
// there with tsc, with a node_modules that links core and its dependencies as an install would.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/new-plugin.mjs');
const CORE = path.join(ROOT, 'packages/core');
const KINDS = [
  'metric-exact-two',
  'peft-ia3',
  'data-lines',
  'arch-toy',
  'loss-hinge',
  'backend-noop',
  'exporter-gguf',
  'filter-words',
  'trainer-tiny',
  'objective-lm',
];

const run = (...args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });

function link(modules: string, name: string, target: string): void {
  fs.mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
  fs.symlinkSync(fs.realpathSync(target), path.join(modules, name), 'dir');
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-new-plugin-'));
  const modules = path.join(tmp, 'node_modules');
  link(modules, '@mmft/core', CORE);
  for (const dep of ['zod', 'tsyringe', 'reflect-metadata', '@jest/globals', '@types/node'])
    link(modules, dep, path.join(CORE, 'node_modules', dep));
});

describe('scripts/new-plugin.mjs', () => {
  test('the skeleton of every kind type-checks against core (provider, manifest, test)', () => {
    for (const name of KINDS) {
      const result = run(name, `a ${name} plugin`, '--out', path.join(tmp, name));
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    }
    const files = [
      'package.json',
      'tsconfig.json',
      'jest.config.js',
      'src/config.ts',
      'src/plugin.ts',
      'src/index.ts',
      'src/plugin.test.ts',
    ];
    for (const file of files) expect(fs.existsSync(path.join(tmp, 'peft-ia3', file))).toBe(true);
    expect(fs.readFileSync(path.join(tmp, 'metric-exact-two/src/plugin.test.ts'), 'utf8')).toContain('describeMetric(exactTwoMetric');
    expect(JSON.parse(fs.readFileSync(path.join(tmp, 'data-lines/package.json'), 'utf8')).name).toBe('@mmft/data-lines');

    const base = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.base.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    const { composite: _c, declaration: _d, declarationMap: _m, sourceMap: _s, ...options } = base.compilerOptions;
    fs.writeFileSync(
      path.join(tmp, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { ...options, noEmit: true }, include: KINDS.map((k) => `${k}/src`) }),
    );
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(tmp, 'tsconfig.json')], {
      encoding: 'utf8',
    });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  test('refuses a prefix that is no plugin kind, naming the kinds, and an existing folder', () => {
    const unknown = run('widget-x', '', '--out', path.join(tmp, 'widget-x'));
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/"widget" is not a plugin kind; kinds: architecture, backend, dataset/);
    fs.mkdirSync(path.join(tmp, 'taken'));
    const taken = run('metric-taken', '', '--out', path.join(tmp, 'taken'));
    expect(taken.status).toBe(2);
    expect(taken.stderr).toMatch(/exists/);
  });
});
