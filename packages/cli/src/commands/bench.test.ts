// `mmft bench` through the command factory: --list validates the shipped experiments, bad options
// fail before anything runs, and a one-experiment suite writes its JSON and reports. Speed is
// never asserted here (docs/benchmarks.md: speed is reported, never a timed test): only that the numbers exist and the files are written.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import type { SuiteReport } from '@mmft/benchmarks';
import { createCliContext } from '../context';
import { benchCommand } from './bench';

async function runBenchCli(argv: string[], cwd = process.cwd()): Promise<{ stdout: string; error?: unknown }> {
  const stdout = new PassThrough();
  let text = '';
  stdout.setEncoding('utf8');
  stdout.on('data', (chunk: string) => (text += chunk));
  const ctx = createCliContext({ stdout, stderr: new PassThrough(), isTTY: false, cwd });
  try {
    await benchCommand(ctx).exitOverride().parseAsync(argv, { from: 'user' });
    return { stdout: text };
  } catch (error) {
    return { stdout: text, error };
  }
}

describe('mmft bench', () => {
  test('--list validates and lists the quick suite', async () => {
    const { stdout, error } = await runBenchCli(['--list']);
    expect(error).toBeUndefined();
    expect(stdout).toMatch(/clip-small-full\s+train\s+quick,full\s+torch/);
    expect(stdout).toMatch(/clip-small-lora\s+train/);
    expect(stdout).not.toContain('clip-wide-full');
  });

  test('--threads must be positive integers', async () => {
    const { error } = await runBenchCli(['--threads', '0']);
    expect(error).toMatchObject({ code: 'E_INPUT', message: expect.stringContaining('--threads') });
  });

  test('an unreadable --compare file fails before benchmarking', async () => {
    const { error, stdout } = await runBenchCli(['--compare', '/nonexistent/old.json']);
    expect(error).toMatchObject({ code: 'E_INPUT', message: expect.stringContaining('--compare /nonexistent/old.json') });
    expect(stdout).toBe('');
  });

  test('a one-experiment suite prints the table and writes JSON and reports', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-bench-cli-'));
    fs.mkdirSync(path.join(dir, 'exp'));
    fs.writeFileSync(
      path.join(dir, 'exp', 'tiny-retrieval.yaml'),
      'metrics: [{ type: retrieval }]\nbench: { kind: metrics, suites: [quick], title: tiny retrieval, warmup_steps: 0, timed_steps: 2, items: 20 }\n',
    );
    const { stdout, error } = await runBenchCli(['--experiments', 'exp', '--json', 'out.json', '--docs', 'docs'], dir);
    expect(error).toBeUndefined();
    expect(stdout).toMatch(/tiny-retrieval\s+[\d.,]+ items\/s/);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'out.json'), 'utf8')) as SuiteReport;
    expect(report).toMatchObject({ format: 'mmft-bench', suite: 'quick', machine: { cores: os.availableParallelism() } });
    const [result] = report.experiments;
    expect(result).toMatchObject({
      name: 'tiny-retrieval',
      kind: 'metrics',
      errors: [],
      mmft: { side: 'mmft', unit: 'items/s', timing: { samples: 2 } },
    });
    expect(result!.mmft!.throughput).toBeGreaterThan(0);
    expect(result!.mmft!.peakRssBytes).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(dir, 'docs', 'benchmarks.md'), 'utf8')).toContain('| tiny-retrieval |');
    expect(fs.existsSync(path.join(dir, 'docs', 'results.md'))).toBe(false);
  });
});
