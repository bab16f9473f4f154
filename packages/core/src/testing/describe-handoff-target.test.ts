import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { z } from 'zod';
import type { HandoffResult, HandoffTargetProvider } from '../contracts/handoff';
import { bundleWriter, handoffScript, nodeCommand } from '../handoff/script';
import {
  HANDOFF_DATA,
  describeHandoffTarget,
  expectHandoffResult,
  handoffBundleDir,
  handoffLaunch,
  llavaHandoffPlan,
  repoRecipePlan,
  tinyModelConfigDir,
} from './describe-handoff-target';

/** A target writing one script and one key=value file, the least a real target does. */
const fakeTarget: HandoffTargetProvider<{ extra_key?: string }> = {
  kind: 'handoff',
  id: 'fake',
  description: 'test target',
  engine: 'Fake',
  configSchema: z.object({ extra_key: z.string().optional() }).strict(),
  async write(plan, _data, launch, bundleDir, config) {
    const files: string[] = [];
    const write = bundleWriter(bundleDir, files);
    write('args.txt', [`lr=${plan.train.lr}`, ...(config.extra_key ? [`${config.extra_key}=1`] : [])].join('\n'));
    write('run.sh', handoffScript(launch, ['# fake'], ['true']), 0o755);
    return {
      files,
      commands: [nodeCommand(launch, 'bash run.sh')],
      mappings: [{ mmft: 'train.lr', target: 'lr (args.txt)' }],
      gaps: plan.train.lrGroups.map((g) => ({ field: 'train.lr_groups', why: `no per-part rate for ${g.params}` })),
      output: launch.outputDir,
    };
  },
};
const argKeys = (dir: string) =>
  fs
    .readFileSync(path.join(dir, 'args.txt'), 'utf8')
    .split('\n')
    .map((l) => l.split('=')[0]!);

describeHandoffTarget(fakeTarget, { keys: (dir) => [{ file: 'args.txt', keys: argKeys(dir), known: new Set(['lr']) }] });

describe('expectHandoffResult', () => {
  const temps: string[] = [];
  afterAll(() => temps.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  test('passes a good result and fails each broken one', async () => {
    const dir = handoffBundleDir('mmft-kit-');
    temps.push(dir);
    const launch = handoffLaunch({ nodes: 2 });
    const good = await fakeTarget.write(llavaHandoffPlan(), HANDOFF_DATA, launch, dir, {});
    const keys = [{ file: 'args.txt', keys: argKeys(dir), known: new Set(['lr']) }];
    expect(() => expectHandoffResult('good', dir, good, launch, keys)).not.toThrow();
    const broken: [string, Partial<HandoffResult>][] = [
      ['a listed file that was not written', { files: [...good.files, 'missing.json'] }],
      ['an absolute file', { files: [path.join(dir, 'run.sh')] }],
      ['no commands', { commands: [] }],
      ['another output', { output: 'elsewhere' }],
      ['a mapping from no recipe field', { mappings: [{ mmft: 'lr', target: 'lr (args.txt)' }] }],
      ['a gap without a reason', { gaps: [{ field: 'train.lr', why: '' }] }],
      ['a multi-node command without the node variables', { commands: ['bash run.sh'], files: ['args.txt'] }],
    ];
    for (const [name, change] of broken) {
      let failed = false;
      try {
        expectHandoffResult(name, dir, { ...good, ...change }, launch, keys);
      } catch {
        failed = true;
      }
      expect([name, failed]).toEqual([name, true]);
    }
    const unknown = [{ file: 'args.txt', keys: ['lr', 'lr_typo'], known: new Set(['lr']) }];
    expect(() => expectHandoffResult('unknown key', dir, good, launch, unknown)).toThrow(/lr_typo/);
  });

  test('fixtures: the bundle folder holds the rows, the config folder config.json, a repository recipe becomes a plan', () => {
    const dir = handoffBundleDir('mmft-kit-', { train: [{ messages: [] }] });
    temps.push(dir);
    expect(fs.readFileSync(path.join(dir, HANDOFF_DATA.train), 'utf8')).toBe('{"messages":[]}\n');
    expect(fs.readFileSync(path.join(dir, HANDOFF_DATA.eval!), 'utf8').split('\n')).toHaveLength(2);
    expect(fs.statSync(path.join(dir, HANDOFF_DATA.imagesDir)).isDirectory()).toBe(true);
    const model = tinyModelConfigDir({ 'a.txt': 'x' });
    temps.push(model);
    expect(JSON.parse(fs.readFileSync(path.join(model, 'config.json'), 'utf8')).model_type).toBe('llava');
    expect(fs.readFileSync(path.join(model, 'a.txt'), 'utf8')).toBe('x');
    // recipes/llava-shapes-instruct.yaml: LoRA r 16, batch 16, 900 steps (as llavaHandoffPlan copies it).
    const plan = repoRecipePlan('llava-shapes-instruct.yaml');
    expect([plan.peft?.r, plan.train.batchSize, plan.train.maxSteps, plan.template]).toEqual([16, 16, 900, 'llava_v1']);
    expect(plan.train).toEqual(llavaHandoffPlan().train);
  });
});
