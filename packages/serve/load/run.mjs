#!/usr/bin/env node
// The load and abuse test of `mmft serve` (docs/serving.md, "Load and abuse test"). Starts the built
// CLI as a child on loopback with models/clip-shapes-base and models/llama-shapes-base (or their ONNX
// exports with --engine onnx), then drives it with autocannon (a library, so every run is bounded by a
// request count and a time cap):
//   1. clean runs: embeddings (text and image inputs taking turns) and short generations (max_tokens 8)
//      at 1, 8 and 32 connections;
//   2. mixes at 8 connections with one malformed request in ten (bad JSON, broken base64, a 50 MB
//      body, a text file sent as a PNG);
// while sampling the server's resident memory from /proc. Prints a markdown table and the verdict
// (pieces.js): no crash, RSS flat, every bad request a 4xx, good p99 within 2x of the clean run.
//
//   node packages/serve/load/run.mjs [--engine tfjs|onnx] [--scale 1] [--cap-s 60]
//
// Build first (`cd packages/cli && npx tsc -b`). --scale multiplies the request counts.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const sharp = require('sharp');
const {
  BAD_KINDS,
  badAfter,
  chatRequest,
  embeddingsRequest,
  malformedRequests,
  markdownTable,
  percentile,
  rssTrend,
  verdict,
} = require('./pieces.js');

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const CLI = path.join(ROOT, 'packages/cli/dist/main.js');

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};
const engine = flag('--engine', 'tfjs');
const scale = Number(flag('--scale', '1'));
const capS = Number(flag('--cap-s', '60'));
if (!['tfjs', 'onnx'].includes(engine) || !(scale > 0) || !(capS > 0)) {
  console.error('usage: node packages/serve/load/run.mjs [--engine tfjs|onnx] [--scale N] [--cap-s SECONDS]');
  process.exit(2);
}

/** A 64x64 PNG of a red disc on white, for the image embeddings. */
async function scenePng() {
  const s = 64;
  const px = Buffer.alloc(s * s * 3, 255);
  for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) if ((x - 24) ** 2 + (y - 30) ** 2 < 144) px.set([220, 30, 30], (y * s + x) * 3);
  return sharp(px, { raw: { width: s, height: s, channels: 3 } })
    .png()
    .toBuffer();
}

const work = mkdtempSync(path.join(tmpdir(), 'mmft-load-'));
const models = { clip: path.join(ROOT, 'models/clip-shapes-base'), llama: path.join(ROOT, 'models/llama-shapes-base') };
if (engine === 'onnx') {
  for (const [name, dir] of Object.entries(models)) {
    const out = path.join(work, name);
    const r = spawnSync(process.execPath, [CLI, 'export', 'onnx', dir, '--out', out], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mmft export onnx ${dir} failed: ${r.stderr}`);
    models[name] = out;
  }
}

// A queue long enough for 32 connections, so that the table shows queueing latency rather than 429s.
const child = spawn(
  process.execPath,
  [CLI, 'serve', '--model', `clip=${models.clip}`, '--model', `llama=${models.llama}`, '--port', '0', '--queue', '64', '--engine', engine],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
let log = '';
child.stdout.on('data', (c) => (log += c));
child.stderr.on('data', (c) => (log += c));
let exited = false;
child.on('exit', () => (exited = true));
// The server goes with this script, however it ends.
process.on('exit', () => exited || child.kill('SIGKILL'));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
while (!/ at (http:\/\/\S+)/.test(log)) {
  if (exited) throw new Error(`mmft serve exited: ${log}`);
  await new Promise((r) => setTimeout(r, 100));
}
const base = / at (http:\/\/\S+)/.exec(log)[1];
const { hostname, port } = new URL(base);
if (hostname !== '127.0.0.1') throw new Error(`the server must listen on loopback, not ${hostname}`);

const encoded = new WeakMap();
const rss = () => {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) * 1024;
  } catch {
    return NaN;
  }
};
// RSS samples by phase: 0 the clean runs, then one list per pass of the malformed mixes.
const phases = [];
let sampling = false;
const sampler = setInterval(() => {
  const v = rss();
  if (sampling && Number.isFinite(v)) phases[phases.length - 1].push(v);
}, 250);

/** One autocannon run over good `requests` (cycled per connection): statuses, latencies, and `onAnswer` after each. */
async function run(name, requests, connections, amount, onAnswer = () => {}) {
  const statuses = {};
  const latencies = [];
  // Throughput over the span from the first request sent to the last answer, not autocannon's
  // one-second ticks (a 40-request run would read as 40 req/s whatever its speed).
  let first = Infinity;
  let last = 0;
  const instance = autocannon({
    url: base,
    connections,
    amount,
    requests: requests.map(({ method, path, headers, body }) => ({ method, path, headers, body })),
    timeout: 120,
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    const now = performance.now();
    first = Math.min(first, now - ms);
    last = now;
    statuses[status] = (statuses[status] ?? 0) + 1;
    latencies.push(ms);
    onAnswer();
  });
  const cap = setTimeout(() => instance.stop(), capS * 1000);
  const result = await instance;
  clearTimeout(cap);
  const seconds = (last - first) / 1000;
  const ok = statuses[200] ?? 0;
  return {
    name,
    connections,
    seconds,
    result,
    ok,
    goodFailed: latencies.length - ok + result.errors + result.timeouts,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

const png = await scenePng();
const image = `data:image/png;base64,${png.toString('base64')}`;
const embed = [embeddingsRequest('clip', 'a red circle'), embeddingsRequest('clip', image)];
const chat = [chatRequest('llama', 'the red circle is left of'), chatRequest('llama', 'how many squares are there ?')];

// Warm-up: the first requests compile kernels and fill caches; RSS is sampled from here on.
await run('warm-up', [...embed, ...chat], 1, 8);
// The refusals have first-time costs too (the image decoder's error path, the body reader).
for (const [route, model] of [
  ['/v1/embeddings', 'clip'],
  ['/v1/chat/completions', 'llama'],
])
  for (const b of malformedRequests(route, model)) await sendAlone(b);
phases.push([]);
sampling = true;

const rows = [];
const clean = {};
const row = (r, what) => {
  rows.push({
    run: r.name,
    connections: r.connections,
    requests: r.ok + r.goodFailed,
    'req/s': (r.ok / r.seconds).toFixed(1),
    'p50 ms': r.p50.toFixed(0),
    'p99 ms': r.p99.toFixed(0),
    'non-200 good': r.goodFailed,
    ...what,
  });
};
const counts = { 1: 40, 8: 160, 32: 320 };
for (const [kind, requests] of [
  ['embeddings', embed],
  ['generation (8 tokens)', chat],
]) {
  for (const c of [1, 8, 32]) {
    const r = await run(kind, requests, c, Math.round(counts[c] * scale));
    clean[`${kind}@${c}`] = r;
    row(r, { 'bad sent': 0, 'bad 4xx': 0 });
  }
}

/**
 * Sends one request on a connection of its own and reads the status line of the answer, also an early
 * one (a 413 comes before a 50 MB body has been read); status 0 when the connection ended without an
 * answer. A raw socket, because node:http's client drops an answer that arrives while it is still
 * sending the body (an EPIPE instead of the 413).
 */
function sendAlone(request) {
  // Encoded once: turning 50 MB of text into bytes blocks this process's event loop for tens of
  // milliseconds, which would show up as latency of the good requests in flight.
  const body = encoded.get(request) ?? encoded.set(request, Buffer.from(request.body, 'utf8')).get(request);
  const head = Object.entries({ ...request.headers, host: `${hostname}:${port}`, 'content-length': body.length, connection: 'close' })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    let answer = '';
    let settled = false;
    const done = (status, why) => {
      if (!settled) resolve({ status, why });
      settled = true;
      socket.destroy();
    };
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      const line = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
      if (line) done(Number(line[1]));
    });
    socket.on('error', (e) => done(0, e.code));
    socket.on('close', () => done(0, `closed after ${answer.length} bytes`));
    socket.write(`${request.method} ${request.path} HTTP/1.1\r\n${head}\r\n`);
    socket.write(body);
  });
}

// The mixes: autocannon sends the good requests at 8 connections; after every ninth good answer one
// malformed request goes out on a connection of its own (badAfter), so one request in ten is bad. Bad
// requests travel apart because a server may close a connection after refusing a request (a 413
// before reading the body, a 400 on a broken body), which would shift autocannon's pairing of
// answers with requests.
const mixes = [];
for (const [pass, kind, requests, route, model] of [1, 2].flatMap((pass) => [
  [pass, 'embeddings', embed, '/v1/embeddings', 'clip'],
  [pass, 'generation (8 tokens)', chat, '/v1/chat/completions', 'llama'],
])) {
  if (phases.length === pass) phases.push([]);
  const bad = new Map(malformedRequests(route, model).map((b) => [b.kind, b]));
  for (const b of bad.values()) encoded.set(b, Buffer.from(b.body, 'utf8'));
  const badStatuses = Object.fromEntries(BAD_KINDS.map((k) => [k, {}]));
  const pending = [];
  let answered = 0;
  const r = await run(`${kind} + 10 % malformed, pass ${pass}`, requests, 8, Math.round(360 * scale), () => {
    const k = badAfter(++answered);
    if (!k) return;
    pending.push(
      sendAlone(bad.get(k)).then(({ status, why }) => {
        const key = status === 0 ? `no answer (${why})` : status;
        badStatuses[k][key] = (badStatuses[k][key] ?? 0) + 1;
      }),
    );
  });
  await Promise.all(pending);
  const badCounts = {};
  for (const k of BAD_KINDS) {
    const s = badStatuses[k];
    const sent = Object.values(s).reduce((a, b) => a + b, 0);
    const fourxx = Object.entries(s).reduce((a, [code, n]) => a + (code >= 400 && code < 500 ? n : 0), 0);
    badCounts[k] = { sent, fourxx, statuses: s };
  }
  const sent = Object.values(badCounts).reduce((a, b) => a + b.sent, 0);
  const fourxx = Object.values(badCounts).reduce((a, b) => a + b.fourxx, 0);
  row(r, { 'bad sent': sent, 'bad 4xx': fourxx });
  mixes.push({
    name: r.name,
    cleanP99: clean[`${kind}@8`].p99,
    goodP99: r.p99,
    goodFailed: r.goodFailed,
    bad: badCounts,
    errors: r.result.errors,
    timeouts: r.result.timeouts,
  });
}
sampling = false;
clearInterval(sampler);

const alive = await fetch(`${base}/health`).then(
  (res) => !exited && res.status === 200,
  () => false,
);
const trend = rssTrend(phases.slice(1));
const samples = phases.flat();
const v = verdict({ alive, rssFlat: trend.flat, mixes });
const mb = (b) => (b / 2 ** 20).toFixed(0);

console.log(`\nmmft serve load test, engine ${engine}, ${new Date().toISOString()}\n`);
console.log(markdownTable(rows));
console.log(
  `\nRSS (MiB, ${samples.length} samples every 250 ms after warm-up): first ${mb(samples[0])}, last ${mb(samples[samples.length - 1])}, ` +
    `max ${mb(Math.max(...samples))}; median of the clean runs ${mb(percentile(phases[0], 50))}, of mix pass 1 ${mb(trend.medians[0])}, ` +
    `of mix pass 2 ${mb(trend.medians[1])} (${(trend.growth * 100).toFixed(1)} % from pass 1 to 2)`,
);
for (const m of mixes) {
  const bad = Object.entries(m.bad).map(
    ([k, b]) =>
      `${k} ${b.fourxx}/${b.sent} 4xx (${Object.entries(b.statuses)
        .map(([c, n]) => `${c}×${n}`)
        .join(', ')})`,
  );
  console.log(
    `${m.name}: ${bad.join('; ')}; socket errors ${m.errors}, timeouts ${m.timeouts}; good p99 ${m.goodP99.toFixed(0)} ms vs clean ${m.cleanP99.toFixed(0)} ms`,
  );
}
console.log(`\nverdict: ${v.pass ? 'PASS' : 'FAIL'}${v.failures.map((f) => `\n- ${f}`).join('')}`);

child.kill('SIGTERM');
await new Promise((r) => (exited ? r() : child.on('exit', r)));
rmSync(work, { recursive: true, force: true });
process.exit(v.pass ? 0 : 1);
