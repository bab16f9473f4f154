// The house rules in eslint.config.mjs catch what they are meant to: planted snippets, linted as if
// they sat at a given path, through ESLint's Node API. ESLint loads its flat config with a dynamic
// import(), which jest's module sandbox does not run, so the linting happens in a child node process.
import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

interface Snippet {
  filePath: string;
  code: string;
}
interface Finding {
  ruleId: string | null;
  message: string;
  line: number;
}

/** Lint each snippet as the file at `filePath` (relative to the repository root) with the repo's config. */
function lint(snippets: Snippet[]): Finding[][] {
  const script = `
    import { ESLint } from 'eslint';
    const snippets = JSON.parse(process.argv[1]);
    const eslint = new ESLint({ cwd: process.cwd(), overrideConfigFile: 'eslint.config.mjs' });
    const out = [];
    for (const s of snippets) {
      const [result] = await eslint.lintText(s.code, { filePath: s.filePath, warnIgnored: true });
      out.push(result.messages.map((m) => ({ ruleId: m.ruleId, message: m.message, line: m.line })));
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(snippets)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(stdout) as Finding[][];
}

const rules = (findings: Finding[]): Array<string | null> => findings.map((f) => f.ruleId);

describe('eslint.config.mjs house rules', () => {
  // One child process for all cases keeps the test fast.
  const cases = {
    pluginImportsPlugin: {
      filePath: 'packages/plugins/loss-contrastive/src/planted.ts',
      code: "import { shapesPlugin } from '@mmft/data-shapes';\nexport const p = shapesPlugin;\n",
    },
    pluginImportsPluginSubpath: {
      filePath: 'packages/plugins/loss-contrastive/src/planted.ts',
      code: "export { x } from '@mmft/arch-clip/testing';\n",
    },
    pluginRequiresPluginByPath: {
      filePath: 'packages/plugins/metric-vqa/src/deep/planted.ts',
      code: "const other = require('../../../metric-caption/src/caption-metric');\nexport default other;\n",
    },
    coreImportsPlugin: {
      filePath: 'packages/core/src/planted.ts',
      code: "export const load = () => import('@mmft/trainer-standard');\n",
    },
    allowedImports: {
      filePath: 'packages/plugins/loss-contrastive/src/planted.ts',
      code: "import { MmftError } from '@mmft/core';\nimport { configSchema } from './config';\nexport const e = [MmftError, configSchema];\n",
    },
    testMayUsePartner: {
      filePath: 'packages/plugins/peft-lora/src/planted.test-helper.ts',
      code: "import { clipPeftSubject } from '@mmft/arch-clip';\nexport const s = clipPeftSubject;\n",
    },
    getKernelInPlugin: {
      filePath: 'packages/plugins/trainer-standard/src/planted.ts',
      code: "import * as tf from '@tensorflow/tfjs-core';\nexport const has = tf.getKernel('MmftLayerNorm', 'wasm') !== undefined;\n",
    },
    getKernelImportedInCli: {
      filePath: 'packages/cli/src/planted.ts',
      code: "import { getKernel } from '@tensorflow/tfjs-core';\nexport const k = getKernel;\n",
    },
    getKernelInCoreHelper: {
      filePath: 'packages/core/src/kernels/planted.ts',
      code: "import * as tf from '@tensorflow/tfjs-core';\nexport const has = (n: string) => tf.getKernel(n, tf.getBackend()) !== undefined;\n",
    },
  };
  const names = Object.keys(cases) as Array<keyof typeof cases>;
  const results = Object.fromEntries(lint(names.map((n) => cases[n])).map((r, i) => [names[i], r])) as Record<
    keyof typeof cases,
    Finding[]
  >;

  test('a plugin importing another plugin by package name is an error that says where shared code goes', () => {
    expect(rules(results.pluginImportsPlugin)).toEqual(['mmft/plugin-boundaries']);
    expect(results.pluginImportsPlugin[0]!.message).toMatch(
      /plugin "loss-contrastive" imports plugin "data-shapes" \(@mmft\/data-shapes\).*@mmft\/core/,
    );
    expect(rules(results.pluginImportsPluginSubpath)).toEqual(['mmft/plugin-boundaries']);
  });

  test('a relative path into another plugin is caught, require() included', () => {
    expect(rules(results.pluginRequiresPluginByPath)).toEqual(['mmft/plugin-boundaries']);
    expect(results.pluginRequiresPluginByPath[0]!.message).toContain('plugin "metric-vqa" imports plugin "metric-caption"');
  });

  test('core imports no plugin, dynamic import() included', () => {
    expect(rules(results.coreImportsPlugin)).toEqual(['mmft/plugin-boundaries']);
    expect(results.coreImportsPlugin[0]!.message).toContain('core imports plugin "trainer-standard"');
  });

  test("core and the plugin's own files are fine; tests may use a partner plugin", () => {
    expect(results.allowedImports).toEqual([]);
    expect(results.testMayUsePartner).toEqual([]);
  });

  test("tf.getKernel only in core's kernel helper", () => {
    expect(rules(results.getKernelInPlugin)).toEqual(['no-restricted-syntax']);
    expect(results.getKernelInPlugin[0]!.message).toContain('isRegistered');
    expect(rules(results.getKernelImportedInCli)).toEqual(['no-restricted-syntax']);
    expect(results.getKernelInCoreHelper).toEqual([]);
  });
});
