// Lint rules for the whole workspace (`pnpm lint`). A modest set: typescript-eslint's recommended
// rules, less the few the codebase breaks on purpose (each with its reason below), plus the house
// rules of docs/conventions.md (§21) as lint rules:
// - a plugin imports no other plugin, and core imports no plugin (docs/conventions.md §20): shared
//   code moves to @mmft/core, so any plugin can be swapped without touching the others;
// - only core's kernel helper asks tfjs which kernels are registered (`tf.getKernel`), so callers
//   go through `isRegistered`/`runFused` in @mmft/core/kernels and the kernel table stays in one place.
// Formatting is prettier's job (.prettierrc.json), so no stylistic rules here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const root = path.dirname(fileURLToPath(import.meta.url));
const pluginsDir = path.join(root, 'packages', 'plugins');
const coreDir = path.join(root, 'packages', 'core');

/** Plugin folder name -> package name, read from disk so a new plugin is covered without editing this file. */
const pluginPackages = new Map(
  fs
    .readdirSync(pluginsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(pluginsDir, d.name, 'package.json')))
    .map((d) => [d.name, JSON.parse(fs.readFileSync(path.join(pluginsDir, d.name, 'package.json'), 'utf8')).name]),
);

/** The plugin folder a path lies in, or undefined. */
const pluginOf = (file) => {
  const rel = path.relative(pluginsDir, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep)[0] || undefined;
};
const inCore = (file) => {
  const rel = path.relative(coreDir, file);
  return !rel.startsWith('..') && !path.isAbsolute(rel);
};

/**
 * mmft/plugin-boundaries: a file of plugin A may not import plugin B (by package name or by a relative
 * path into B's folder); a file of core may not import any plugin. Covers `import`, `export ... from`,
 * `import()` and `require()` with a literal specifier.
 */
const pluginBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'plugins import no other plugin; core imports no plugin' },
    schema: [],
    messages: {
      crossPlugin:
        'plugin "{{from}}" imports plugin "{{to}}" ({{spec}}): plugins import no other plugin; move the shared code to @mmft/core (docs/conventions.md §20)',
      coreImportsPlugin:
        'core imports plugin "{{to}}" ({{spec}}): core imports no plugin; declare a contract in core and let the plugin implement it (docs/conventions.md §20)',
    },
  },
  create(context) {
    const file = context.physicalFilename ?? context.filename;
    const from = pluginOf(file);
    const core = inCore(file);
    if (!from && !core) return {};
    const targetOf = (spec) => {
      if (spec.startsWith('.')) return pluginOf(path.resolve(path.dirname(file), spec));
      for (const [dir, name] of pluginPackages) if (spec === name || spec.startsWith(`${name}/`)) return dir;
      return undefined;
    };
    const check = (node, source) => {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const to = targetOf(source.value);
      if (!to) return;
      if (core) context.report({ node: source, messageId: 'coreImportsPlugin', data: { to, spec: source.value } });
      else if (to !== from) context.report({ node: source, messageId: 'crossPlugin', data: { from, to, spec: source.value } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
      TSImportEqualsDeclaration: (node) => check(node, node.moduleReference?.expression),
      'CallExpression[callee.name="require"]': (node) => check(node, node.arguments[0]),
    };
  },
};

export default defineConfig([
  globalIgnores(['**/node_modules/', '**/dist/', '**/build/', '**/coverage/', '**/.nx/', '**/.jest-cache/', 'runs/', 'models/', 'tmp/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { mmft: { rules: { 'plugin-boundaries': pluginBoundaries } } },
    rules: {
      'mmft/plugin-boundaries': 'error',
      // Packages compile to CommonJS, and `require` is used on purpose: to load an engine or backend
      // only when it is selected, a user's plugin by path, package.json at run time (an `import` would
      // pull it into dist/), and in tests to register tfjs's cpu backend after module setup.
      '@typescript-eslint/no-require-imports': 'off',
      // Statements like `if (previous) (previous.dispose(), grad.dispose());` are a deliberate terse
      // idiom here; the rule cannot tell them from a forgotten call, and TypeScript reports the
      // expressions that really do nothing (unreachable or unused values it can see).
      '@typescript-eslint/no-unused-expressions': 'off',
      // Empty interfaces are declaration-merging targets (core's ProviderKindMap: each kind's contract
      // file adds its row).
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'always' }],
      // Unused names are errors, but a leading `_` marks one kept on purpose (a callback's position,
      // a destructured field left out of a rest copy).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'MemberExpression[property.name="getKernel"]',
          message:
            "ask core whether a kernel is registered: isRegistered/runFused from @mmft/core/kernels (only core's kernel helper calls tf.getKernel)",
        },
        {
          selector: 'ImportSpecifier[imported.name="getKernel"]',
          message:
            "ask core whether a kernel is registered: isRegistered/runFused from @mmft/core/kernels (only core's kernel helper calls tf.getKernel)",
        },
      ],
    },
  },
  {
    // Core's kernel helper is where tfjs's registry is read. backend-tfjs's kernels folder is the
    // implementer side: an override wraps and restores the stock kernel it replaces, as tfjs's own
    // backends do, and its tests check what is registered before and after install.
    // The benchmark's mode switch removes and restores the same kernels for its stock/fused rows,
    // and tests that register a stand-in kernel (the trainer's fused AdamW test) remove it again.
    files: [
      'packages/core/src/kernels/**',
      'packages/plugins/backend-tfjs/src/kernels/**',
      'packages/benchmarks/src/kernel-overrides.ts',
      '**/*.test.ts',
    ],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // `any` where TypeScript's variance needs it: a module tree or a task table holds members with
    // different parameter lists, and `unknown[]` parameters would not accept them.
    files: [
      'packages/core/src/nn/module.ts',
      'packages/core/src/peft/transparent-wrapper.ts',
      'packages/plugins/data-jsonl/src/records/parse-record.ts',
    ],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Python's str.isascii, ported as a range over the control characters on purpose.
    files: ['packages/plugins/metric-vqa/src/python-text.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    // Tests poke into parsed JSON (`Record<string, any>`) and match column-aligned CLI output
    // literally (`/tfjs-core   4\./`), which reads better than ` {3}`.
    files: ['**/*.test.ts', '**/*.test-helper.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-regex-spaces': 'off' },
  },
  {
    // Tests may run a plugin against a real partner plugin (the PEFT plugins test on arch-clip's CLIP,
    // a devDependency); only shipped code must stay free of other plugins.
    files: ['**/*.test.ts', '**/*.test-helper.ts'],
    rules: { 'mmft/plugin-boundaries': 'off' },
  },
  {
    // jest.config.js files and jest.preset.js are CommonJS, loaded by jest with require().
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
]);
