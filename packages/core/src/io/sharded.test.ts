import { describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors, type WritableTensor } from './safetensors-write';
import { readShardedSafetensors } from './sharded';

const t = (...values: number[]): WritableTensor => ({ dtype: 'F32', shape: [values.length], data: new Float32Array(values) });

async function shardedFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mmft-shards-'));
  await writeSafetensors(join(dir, 'model-00001-of-00002.safetensors'), { 'a.weight': t(1, 2), 'b.weight': t(3) });
  await writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), { 'c.weight': t(4, 5, 6) });
  const index = {
    metadata: { total_size: 24 },
    weight_map: {
      'a.weight': 'model-00001-of-00002.safetensors',
      'b.weight': 'model-00001-of-00002.safetensors',
      'c.weight': 'model-00002-of-00002.safetensors',
    },
  };
  await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
  return dir;
}

describe('readShardedSafetensors', () => {
  test('reads every shard listed in the index', async () => {
    const dir = await shardedFolder();
    const { tensors, metadata, files } = await readShardedSafetensors(dir);
    expect([...tensors.keys()].sort()).toEqual(['a.weight', 'b.weight', 'c.weight']);
    expect(Array.from(tensors.get('c.weight')!.data)).toEqual([4, 5, 6]);
    expect(metadata).toEqual({ total_size: 24 });
    expect(files).toEqual([join(dir, 'model-00001-of-00002.safetensors'), join(dir, 'model-00002-of-00002.safetensors')]);
  });

  test('falls back to the single model.safetensors; baseName selects adapter files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mmft-single-'));
    await writeSafetensors(join(dir, 'model.safetensors'), { w: t(1) }, { format: 'pt' });
    await writeSafetensors(join(dir, 'adapter_model.safetensors'), { lora: t(2) });
    expect(await readShardedSafetensors(dir)).toMatchObject({ metadata: { format: 'pt' }, files: [join(dir, 'model.safetensors')] });
    expect([...(await readShardedSafetensors(dir, { baseName: 'adapter_model' })).tensors.keys()]).toEqual(['lora']);
  });

  test('errors name the missing file', async () => {
    const dir = await shardedFolder();
    await rm(join(dir, 'model-00002-of-00002.safetensors'));
    await expect(readShardedSafetensors(dir)).rejects.toMatchObject({
      code: 'E_CHECKPOINT',
      message: expect.stringContaining(
        `puts "c.weight" in model-00002-of-00002.safetensors, but ${join(dir, 'model-00002-of-00002.safetensors')} does not exist`,
      ),
    });
    const empty = await mkdtemp(join(tmpdir(), 'mmft-empty-'));
    await expect(readShardedSafetensors(empty)).rejects.toMatchObject({
      code: 'E_CHECKPOINT',
      message: expect.stringContaining('has neither model.safetensors.index.json nor model.safetensors'),
    });
  });

  test('a lying or broken index is rejected', async () => {
    const dir = await shardedFolder();
    const indexPath = join(dir, 'model.safetensors.index.json');
    await writeFile(
      indexPath,
      JSON.stringify({ weight_map: { 'a.weight': 'model-00001-of-00002.safetensors', 'z.weight': 'model-00002-of-00002.safetensors' } }),
    );
    await expect(readShardedSafetensors(dir)).rejects.toMatchObject({
      message: expect.stringContaining('e.g. "z.weight" in model-00002-of-00002.safetensors'),
    });
    await writeFile(indexPath, JSON.stringify({ weight_map: { 'a.weight': '../elsewhere.safetensors' } }));
    await expect(readShardedSafetensors(dir)).rejects.toMatchObject({
      code: 'E_CHECKPOINT',
      message: expect.stringContaining('shard file names in the same folder'),
    });
    await writeFile(indexPath, '{"weight_map": ');
    await expect(readShardedSafetensors(dir)).rejects.toMatchObject({
      code: 'E_CHECKPOINT',
      message: expect.stringContaining('is not readable JSON'),
    });
    await writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), { 'a.weight': t(9, 9) });
    await writeFile(
      indexPath,
      JSON.stringify({ weight_map: { 'a.weight': 'model-00001-of-00002.safetensors', x: 'model-00002-of-00002.safetensors' } }),
    );
    await expect(readShardedSafetensors(dir)).rejects.toMatchObject({
      message: expect.stringContaining('"a.weight" appears in more than one shard'),
    });
  });
});
