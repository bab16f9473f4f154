import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PluginRegistry } from '@mmft/core';
import { decodeEvent, readRecords } from '@mmft/core/tracking';
import plugin from './index';

describe('tensorboard reporter', () => {
  test('registers as reporter "tensorboard" and writes <output_dir>/tensorboard/events.out.tfevents.*', async () => {
    const registry = new PluginRegistry();
    registry.use(plugin, '@mmft/reporter-tensorboard');
    const provider = registry.resolve('reporter', 'tensorboard');
    const outputDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-tbr-'));
    const tracker = await provider.open({}, { outputDir, runName: 'r' });
    tracker.scalars(2, { 'train/loss': 1.5 });
    tracker.text(0, 'recipe', '```yaml\na: 1\n```');
    await tracker.close();
    const files = fs.readdirSync(path.join(outputDir, 'tensorboard'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^events\.out\.tfevents\.\d+\./);
    const events = readRecords(fs.readFileSync(path.join(outputDir, 'tensorboard', files[0]!))).map(decodeEvent);
    expect(events.map((e) => e.step ?? 0)).toEqual([0, 2, 0]);
    expect(events[0]!.file_version).toBe('brain.Event:2');
    expect(events[1]!.summary).toEqual({ value: [{ tag: 'train/loss', simple_value: 1.5 }] });
    expect(() => provider.configSchema.parse({ logdir: 'x' })).toThrow();
  });
});
