// Ctrl-C during `mmft train`: the first SIGINT/SIGTERM lets the step finish, writes
// checkpoint-last and report.html and exits 130/143 with a message; a second exits at once.
// Signals come from an EventEmitter here; tests/e2e/train-interrupt.test.ts sends real ones.
import 'reflect-metadata';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import { createCliContext } from '../context';
import { runCli } from '../program';

const RECIPE = path.join(__dirname, '..', '..', '..', '..', 'recipes', 'clip-shapes-finetune.yaml');
// feature-based: the encoders run once over 6 + 2 images, then every step is a small head update.
const SMALL = [
  'data.train.n=6',
  'data.eval.n=2',
  'train.batch_size=2',
  'train.strategy=feature-based',
  'train.max_steps=100000',
  'train.eval_before=false',
  'train.log_every=1',
].flatMap((s) => ['--set', s]);

/** Runs `mmft train` in-process and emits `signals` (one per listed step) once that step is printed. */
async function trainAndSignal(signals: ReadonlyArray<readonly [step: number, signal: NodeJS.Signals]>) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-interrupt-'));
  const emitter = new EventEmitter();
  const exits: number[] = [];
  const text = { stdout: '', stderr: '' };
  const stdout = new PassThrough().on('data', (c: Buffer) => {
    text.stdout += c.toString();
    for (const [step, signal] of signals) if (c.toString().startsWith(`step ${step}/`)) emitter.emit(signal);
  });
  const stderr = new PassThrough().on('data', (c: Buffer) => void (text.stderr += c.toString()));
  const ctx = createCliContext({ isTTY: false, stdout, stderr, signals: emitter, exit: (code) => void exits.push(code) });
  const code = await runCli(['train', RECIPE, ...SMALL, '--output', out], ctx);
  return { code, out, exits, ...text, listeners: emitter.listenerCount('SIGINT') + emitter.listenerCount('SIGTERM') };
}

describe('mmft train interrupted', () => {
  test('SIGINT: finishes the step, writes checkpoint-last and report.html, exits 130 with a message', async () => {
    const run = await trainAndSignal([[2, 'SIGINT']]);
    expect(run.code).toBe(130);
    // The signal lands after step 2 was printed: step 2, or the step already under way, finishes.
    const state = JSON.parse(fs.readFileSync(path.join(run.out, 'checkpoint-last', 'trainer_state.json'), 'utf8')) as {
      globalStep: number;
    };
    expect([2, 3]).toContain(state.globalStep);
    expect(fs.existsSync(path.join(run.out, 'report.html'))).toBe(true);
    expect(run.stderr).toContain('interrupted (Ctrl-C): finishing the current step');
    expect(run.stderr).toContain(`stopped by SIGINT at step ${state.globalStep}: ${path.join(run.out, 'checkpoint-last')}`);
    expect(run.stderr).toContain(`--resume ${path.join(run.out, 'checkpoint-last')}`);
    expect(run.stdout).not.toContain('done:');
    expect(run.listeners).toBe(0);
  }, 60_000);

  test('SIGTERM exits 143; a second signal exits at once', async () => {
    const run = await trainAndSignal([
      [1, 'SIGTERM'],
      [1, 'SIGINT'],
    ]);
    expect(run.exits).toEqual([130]);
    expect(run.stderr).toContain('SIGTERM received');
    expect(run.stderr).toContain('SIGINT again: exiting at once');
    expect(run.code).toBe(143);
  }, 60_000);
});
