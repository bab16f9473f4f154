#!/usr/bin/env node
// Scaffolds packages/plugins/<kind>-<name> with the layout every mmft plugin shares (STYLE.md §2):
// package.json (exports map, core as peer), tsconfig with a reference to core, jest config,
// src/{config.ts, plugin.ts, index.ts}. Usage: node scripts/new-plugin.mjs metric-caption "description"
import * as fs from 'node:fs';
import * as path from 'node:path';

const [dirName, description = ''] = process.argv.slice(2);
if (!dirName || !/^[a-z]+-[a-z0-9-]+$/.test(dirName)) {
  console.error('usage: node scripts/new-plugin.mjs <kind>-<name> "description"   (e.g. peft-lora)');
  process.exit(2);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dir = path.join(root, 'packages', 'plugins', dirName);
if (fs.existsSync(dir)) {
  console.error(`${dir} exists`);
  process.exit(2);
}
fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
const write = (file, text) => fs.writeFileSync(path.join(dir, file), text);
write('package.json', JSON.stringify({
  name: `@mmft/${dirName}`,
  version: '0.1.0',
  description,
  license: 'Apache-2.0',
  type: 'commonjs',
  main: './dist/index.js',
  types: './dist/index.d.ts',
  exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' }, './package.json': './package.json' },
  files: ['dist'],
  keywords: ['mmft-plugin'],
  scripts: { build: 'tsc -b', test: 'jest' },
  dependencies: { zod: 'catalog:' },
  peerDependencies: { '@mmft/core': 'workspace:*' },
  devDependencies: {
    '@jest/globals': 'catalog:', '@mmft/core': 'workspace:*', '@types/node': 'catalog:', jest: 'catalog:',
    'reflect-metadata': 'catalog:', 'ts-jest': 'catalog:', tsyringe: 'catalog:', typescript: 'catalog:',
  },
}, null, 2) + '\n');
write('tsconfig.json', JSON.stringify({
  extends: '../../../tsconfig.base.json',
  compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'dist/.tsbuildinfo' },
  include: ['src'],
  references: [{ path: '../../core' }],
}, null, 2) + '\n');
write('jest.config.js', "module.exports = { ...require('../../../jest.preset.js'), rootDir: __dirname };\n");
console.log(`created ${path.relative(root, dir)}; now run pnpm install`);
