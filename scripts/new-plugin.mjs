#!/usr/bin/env node
// Scaffolds packages/plugins/<kind>-<name> with the layout every mmft plugin shares
// (docs/architecture.md, "Adding a plugin kind" and the plugin layout): package.json (exports map,
// core as peer), tsconfig with a reference to core, jest config, src/{config.ts, plugin.ts,
// index.ts} and a test: core's conformance kit where the kind has one a skeleton can pass
// (describeMetric), else a registration test. The provider is typed by its kind's contract, so
// `tsc -b` says what is left to write.
// Usage: node scripts/new-plugin.mjs <kind>-<name> "description" [--out DIR]
//   <kind> is a plugin kind (metric, peft, loss, dataset/data, architecture/arch, ...).
//   --out writes the package there instead of packages/plugins/<kind>-<name> (tests use it).
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args.splice(outAt, 2)[1] : undefined;
const [dirName, description = ''] = args;

// The kinds come from core's table when core is built (packages/core/src/contracts/kind-specs.ts).
const ALIASES = { arch: 'architecture', data: 'dataset' };
let kinds = ['architecture', 'backend', 'dataset', 'exporter', 'loss', 'metric', 'objective', 'peft', 'trainer'];
try {
  kinds = [...createRequire(import.meta.url)(path.join(root, 'packages/core/dist/index.js')).PLUGIN_KINDS];
} catch {
  // core not built yet: the list above
}

function fail(message) {
  console.error(message);
  process.exit(2);
}

const match = /^([a-z]+)-([a-z0-9]+(?:-[a-z0-9]+)*)$/.exec(dirName ?? '');
if (!match) fail('usage: node scripts/new-plugin.mjs <kind>-<name> "description" [--out DIR]   (e.g. metric-bertscore, peft-ia3)');
const [, prefix, name] = match;
const kind = ALIASES[prefix] ?? prefix;
if (!kinds.includes(kind))
  fail(`"${prefix}" is not a plugin kind; kinds: ${kinds.join(', ')} (arch and data are short for architecture and dataset)`);
const dir = path.resolve(out ?? path.join(root, 'packages', 'plugins', dirName));
if (fs.existsSync(dir)) fail(`${dir} exists; pick another name or remove it`);

const camel = name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
const Pascal = camel[0].toUpperCase() + camel.slice(1);
const text = description || `${kind} "${name}"`;
const q = (s) => JSON.stringify(s).slice(1, -1).replace(/'/g, "\\'");

// What each kind's provider must have (packages/core/src/contracts/<kind>.ts): members written as
// stubs that throw until implemented.
const notYet = (member) => `throw notYet('${member}');`;
const STUBS = {
  architecture: {
    type: 'ArchitectureProvider',
    members: [
      `family: 'dual-encoder'`,
      `modelTypes: ['${name}']`,
      `async fromConfig() {\n    ${notYet('fromConfig')}\n  }`,
      `async fromPretrained() {\n    ${notYet('fromPretrained')}\n  }`,
    ],
  },
  backend: {
    type: 'BackendProvider',
    members: [`async probe() {\n    ${notYet('probe')}\n  }`, `async select() {\n    ${notYet('select')}\n  }`],
  },
  dataset: { type: 'DatasetProvider', members: [`tasks: ['caption']`, `async open() {\n    ${notYet('open')}\n  }`] },
  exporter: { type: 'ExporterProvider', members: [`format: '${name}'`, `async export() {\n    ${notYet('export')}\n  }`] },
  filter: { type: 'OutputFilterProvider', members: [`create() {\n    ${notYet('create')}\n  }`] },
  loss: { type: 'LossProvider', members: [`create() {\n    ${notYet('create')}\n  }`] },
  objective: { type: 'ObjectiveProvider', members: [`async create() {\n    ${notYet('create')}\n  }`] },
  peft: {
    type: 'PeftMethodProvider',
    members: [
      `peftType: '${name.toUpperCase().replace(/-/g, '_')}'`,
      `apply() {\n    ${notYet('apply')}\n  }`,
      `toAdapterConfig() {\n    ${notYet('toAdapterConfig')}\n  }`,
      `fromAdapterConfig() {\n    ${notYet('fromAdapterConfig')}\n  }`,
    ],
  },
  trainer: { type: 'TrainerProvider', members: [`async run() {\n    ${notYet('run')}\n  }`] },
};
if (kind !== 'metric' && !STUBS[kind]) fail(`scripts/new-plugin.mjs has no skeleton for kind "${kind}" yet; add one to STUBS`);

const files = {};
files['package.json'] =
  JSON.stringify(
    {
      name: `@mmft/${dirName}`,
      version: '0.1.0',
      description: text,
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
        '@jest/globals': 'catalog:',
        '@mmft/core': 'workspace:*',
        '@types/node': 'catalog:',
        jest: 'catalog:',
        'reflect-metadata': 'catalog:',
        'ts-jest': 'catalog:',
        tsyringe: 'catalog:',
        typescript: 'catalog:',
      },
    },
    null,
    2,
  ) + '\n';
files['tsconfig.json'] =
  JSON.stringify(
    {
      extends: '../../../tsconfig.base.json',
      compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'dist/.tsbuildinfo' },
      include: ['src'],
      references: [{ path: '../../core' }],
    },
    null,
    2,
  ) + '\n';
files['jest.config.js'] = "module.exports = { ...require('../../../jest.preset.js'), rootDir: __dirname };\n";

files['src/config.ts'] =
  kind === 'metric'
    ? `// The recipe section of metric "${name}" (\`metrics: [{ type: ${name} }]\`): every field described,
// so \`mmft schema\` can complete it.
import { z } from 'zod';

export const ${camel}ConfigSchema = z.strictObject({
  case_sensitive: z.boolean().default(false).describe('compare predictions and references case-sensitively'),
});

export type ${Pascal}Config = z.output<typeof ${camel}ConfigSchema>;
`
    : `// The recipe section of ${kind} "${name}": every field described, so \`mmft schema\` can complete it.
import { z } from 'zod';

export const ${camel}ConfigSchema = z.strictObject({});

export type ${Pascal}Config = z.output<typeof ${camel}ConfigSchema>;
`;

files['src/plugin.ts'] =
  kind === 'metric'
    ? `// The metric provider "${name}": the share of predictions equal to one of their references, in
// percent. It reads \`text\` inputs (packages/core/src/contracts/metric-input.ts).
import { parseConfig, type Metric, type MetricProvider, type MetricReport, type TextInput } from '@mmft/core';
import { ${camel}ConfigSchema, type ${Pascal}Config } from './config';

class ${Pascal}Metric implements Metric<TextInput> {
  private hits = 0;
  private total = 0;

  constructor(private readonly config: ${Pascal}Config) {}

  reset(): void {
    this.hits = 0;
    this.total = 0;
  }

  update(batch: TextInput | readonly TextInput[]): void {
    const norm = (s: string) => (this.config.case_sensitive ? s.trim() : s.trim().toLowerCase());
    for (const input of Array.isArray(batch) ? (batch as readonly TextInput[]) : [batch as TextInput]) {
      this.total += 1;
      if (input.references.some((r) => norm(r) === norm(input.prediction))) this.hits += 1;
    }
  }

  compute(): MetricReport {
    return { scores: { ${camel.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())}: this.total === 0 ? 0 : (100 * this.hits) / this.total } };
  }
}

/** \`metrics: [{ type: ${name} }]\` */
export const ${camel}Metric: MetricProvider<${Pascal}Config, TextInput> = {
  kind: 'metric',
  id: '${name}',
  consumes: 'text',
  description: '${q(text)}',
  configSchema: ${camel}ConfigSchema,
  scores: { ${camel.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())}: 'higher' },
  create: (config) => new ${Pascal}Metric(parseConfig(${camel}Metric, config)),
};
`
    : `// The ${kind} provider "${name}" (contract: packages/core/src/contracts/${kind === 'peft' ? 'peft' : kind}.ts). The members
// throw until written; \`tsc -b\` checks their signatures against the contract.
import { MmftError, type ${STUBS[kind].type} } from '@mmft/core';
import { ${camel}ConfigSchema, type ${Pascal}Config } from './config';

const notYet = (member: string) => new MmftError('E_UNSUPPORTED', \`${kind} "${name}": \${member} is not written yet (src/plugin.ts)\`);

/** \`${kind === 'peft' ? 'peft: { method' : `${kind}: { type`}: ${name} }\` */
export const ${camel}Provider: ${STUBS[kind].type}<${Pascal}Config> = {
  kind: '${kind}',
  id: '${name}',
  description: '${q(text)}',
  configSchema: ${camel}ConfigSchema,
  ${STUBS[kind].members.join(',\n  ')},
};
`;

const providerName = kind === 'metric' ? `${camel}Metric` : `${camel}Provider`;
files['src/index.ts'] = `// @mmft/${dirName}: the plugin object (a pure manifest; nothing registers on import).
import { definePlugin } from '@mmft/core';
import { ${providerName} } from './plugin';

export { ${providerName} } from './plugin';
export { ${camel}ConfigSchema, type ${Pascal}Config } from './config';

const pkg = require('../package.json') as { name: string; version: string };

const plugin = definePlugin({ name: pkg.name, version: pkg.version, description: '${q(text)}', provides: [${providerName}] });
export default plugin;
`;

files['src/plugin.test.ts'] =
  kind === 'metric'
    ? `import { describeMetric } from '@mmft/core/testing';
import { ${camel}Metric } from './plugin';

describeMetric(${camel}Metric, {
  config: {},
  updates: [
    { kind: 'text', id: '1', prediction: 'A red circle', references: ['a red circle', 'one circle'] },
    { kind: 'text', id: '2', prediction: 'two squares', references: ['a blue square'] },
  ],
});
`
    : `import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { parseConfig, PluginRegistry } from '@mmft/core';
import plugin from './index';
import { ${camel}Provider } from './plugin';

describe('${dirName}', () => {
  test('registers as ${kind} "${name}", and an empty section parses', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('${kind}', '${name}')).toBe(${camel}Provider);
    expect(parseConfig(${camel}Provider, {})).toEqual({});
  });
});
`;

for (const [file, body] of Object.entries(files)) {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), body);
}
console.log(
  `created ${path.relative(process.cwd(), dir) || dir} (${kind} "${name}")${out ? '' : '; now run pnpm install, then npx tsc -b and npx jest in it'}`,
);
