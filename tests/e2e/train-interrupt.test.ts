// Ctrl-C on the real `mmft` process: SIGINT during training finishes the step, writes
// checkpoint-last and report.html, and exits 130 with a message saying how to resume.
import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const MAIN = path.join(ROOT, 'packages', 'cli', 'dist', 'main.js');
const RECIPE = path.join(ROOT, 'recipes', 'clip-shapes-finetune.yaml');
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

describe('mmft train and SIGINT', () => {
  test('the process saves checkpoint-last and report.html, then exits 130', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-sigint-')), 'run');
    const child = spawn(process.execPath, [MAIN, 'train', RECIPE, ...SMALL, '--output', out], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (!sent && /^step 1\//m.test(stdout)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (c: Buffer) => void (stderr += c.toString()));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('exit', (c, s) => resolve([c, s])),
    );
    expect(sent).toBe(true);
    expect({ code, signal }).toEqual({ code: 130, signal: null });
    const state = JSON.parse(fs.readFileSync(path.join(out, 'checkpoint-last', 'trainer_state.json'), 'utf8')) as { globalStep: number };
    expect(state.globalStep).toBeGreaterThanOrEqual(1);
    expect(fs.existsSync(path.join(out, 'report.html'))).toBe(true);
    expect(stderr).toContain(`stopped by SIGINT at step ${state.globalStep}`);
    expect(stderr).toContain(`--resume ${path.join(out, 'checkpoint-last')}`);
  }, 60_000);
});
