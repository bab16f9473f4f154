import { afterAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend } from './ensure-backend';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-ensure-backend-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A backend plugin whose select() registers tfjs's cpu engine and records the config it got. */
function writeFakeBackend(
  name: string,
  provides = "[{ kind: 'backend', id: 'fake', description: 'fake', configSchema, probe: async () => [], select }]",
): string {
  const file = path.join(tmp, `${name}.js`);
  const req = (id: string) => JSON.stringify(require.resolve(id));
  fs.writeFileSync(
    file,
    `const tf = require(${req('@tensorflow/tfjs-core')});
const { z } = require(${req('zod')});
const configSchema = z.object({ prefer: z.array(z.string()).default(['cpu']) });
async function select(config) {
  globalThis.__fakeSelects = [...(globalThis.__fakeSelects ?? []), config];
  require(${req('@tensorflow/tfjs-backend-cpu')});
  await tf.setBackend('cpu');
  return { name: 'cpu', reason: 'fake', probes: [], capabilities: { engine: 'cpu', gpu: false, threads: 1, kernelOverrides: [], float16: false } };
}
module.exports = { meta: { name: ${JSON.stringify(name)}, version: '1.0.0' }, provides: ${provides}, register() {} };
`,
  );
  return file;
}

const selects = () => (globalThis as { __fakeSelects?: unknown[] }).__fakeSelects ?? [];

describe('ensureBackend', () => {
  test('with no engine anywhere, a missing backend plugin is E_BACKEND saying where it looked and what to do', async () => {
    // (jest's resolver also looks beside this file, so the real default plugin cannot stand for a missing one)
    const error = await ensureBackend({ plugin: '@mmft/no-such-backend', searchFrom: [tmp] }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string; hint?: string },
    );
    expect(error).toMatchObject({ code: 'E_BACKEND' });
    expect(error!.message).toContain(
      `no tensor engine is selected, and the default backend plugin @mmft/no-such-backend cannot be loaded (looked from ${tmp})`,
    );
    expect(error!.hint).toMatch(/install @mmft\/no-such-backend beside your script/);
    expect(tf.engine().backendName).toBeFalsy();
  });

  test('a plugin that provides no backend is refused by name', async () => {
    const empty = writeFakeBackend('no-backend', "[{ kind: 'metric', id: 'm', description: 'm', configSchema }]");
    await expect(ensureBackend({ plugin: empty })).rejects.toThrow(/no-backend\.js\) provides no backend/);
    expect(tf.engine().backendName).toBeFalsy();
  });

  test('selects the plugin with its schema defaults once; later calls keep the active engine', async () => {
    const fake = writeFakeBackend('fake-backend');
    const [a, b] = await Promise.all([ensureBackend({ plugin: fake }), ensureBackend({ plugin: fake })]);
    expect([a, b]).toEqual(['cpu', 'cpu']);
    expect(selects()).toEqual([{ prefer: ['cpu'] }]);
    expect(await ensureBackend({ plugin: path.join(tmp, 'absent.js') })).toBe('cpu');
    expect(selects()).toHaveLength(1);
  });

  test('an engine registered but not started is started as tfjs would, without loading a plugin', async () => {
    tf.removeBackend('cpu');
    expect(tf.engine().backendName).toBeFalsy();
    tf.registerBackend(
      'cpu',
      () => new (require('@tensorflow/tfjs-backend-cpu') as typeof import('@tensorflow/tfjs-backend-cpu')).MathBackendCPU(),
      1,
    );
    expect(await ensureBackend({ plugin: path.join(tmp, 'absent.js') })).toBe('cpu');
    expect(tf.engine().backendName).toBe('cpu');
    expect(selects()).toHaveLength(1);
  });
});
