// The parts of the load and abuse test (run.mjs) that decide something, kept apart so jest checks
// them without a server: the request bodies (good and malformed), the 1-in-10 mix, percentiles, the
// RSS trend and the verdict, and the markdown table. CommonJS so that jest requires it as it is.
'use strict';

/** Malformed-request kinds of the abuse mix and the status class each must get. */
const BAD_KINDS = ['bad-json', 'broken-base64', 'huge-body', 'not-an-image'];

const json = (body) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

/** An embeddings request for CLIP: a text, or an image as a data URL. */
function embeddingsRequest(model, input) {
  return { kind: 'good', path: '/v1/embeddings', ...json({ model, input: [input] }) };
}

/** A short chat completion (greedy, `maxTokens` new tokens). */
function chatRequest(model, text, maxTokens = 8) {
  return {
    kind: 'good',
    path: '/v1/chat/completions',
    ...json({ model, messages: [{ role: 'user', content: text }], max_tokens: maxTokens, temperature: 0 }),
  };
}

/**
 * One request of each malformed kind, sent to `path` for `model` (an embeddings route reads images
 * from its input; a chat route from image_url parts):
 * - bad-json: the body stops in the middle of an array;
 * - broken-base64: a data URL whose payload is not base64;
 * - huge-body: `hugeBytes` (50 MB) of valid JSON, over the server's body limit;
 * - not-an-image: a data URL of a text file that says it is a PNG.
 */
function malformedRequests(path, model, hugeBytes = 50 * 1024 * 1024) {
  const image = (url) =>
    path === '/v1/embeddings'
      ? { model, input: [url] }
      : {
          model,
          max_tokens: 8,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'what is it ?' },
                { type: 'image_url', image_url: { url } },
              ],
            },
          ],
        };
  const filler = 'a'.repeat(Math.max(0, hugeBytes - 64));
  const text = Buffer.from('name,colour\ncircle,red\n', 'utf8').toString('base64');
  return [
    { kind: 'bad-json', path, ...json(`{"model": "${model}", "input": ["a red circle",`) },
    { kind: 'broken-base64', path, ...json(image('data:image/png;base64,@@not*base64!!')) },
    { kind: 'huge-body', path, ...json(`{"model": "${model}", "input": ["${filler}"]}`) },
    { kind: 'not-an-image', path, ...json(image(`data:image/png;base64,${text}`)) },
  ];
}

/**
 * Which malformed kind to send once `goodAnswered` good requests have been answered: one after every
 * ninth, the kinds taking turns, so that one request in ten is bad (undefined: none now).
 *
 * @example
 * badAfter(9, BAD_KINDS); // 'bad-json'
 * badAfter(18, BAD_KINDS); // 'broken-base64'
 */
function badAfter(goodAnswered, kinds = BAD_KINDS) {
  if (goodAnswered <= 0 || goodAnswered % 9 !== 0) return undefined;
  return kinds[(goodAnswered / 9 - 1) % kinds.length];
}

/** The p-th percentile (0–100) of `values` by the nearest-rank rule; NaN when empty. */
function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/**
 * Whether resident memory stayed flat: `rounds` are the RSS samples of successive passes of the same
 * workload (the malformed mixes, run twice); memory is flat when the median of the last pass is at most
 * `tolerance` (20 %) above the first pass's. Comparing like with like keeps the first compilation,
 * allocator warm-up and the socket buffers a 50 MB body fills out of the verdict; a leak grows with
 * every pass. Also the first, last and largest sample of all.
 */
function rssTrend(rounds, tolerance = 0.2) {
  const all = rounds.flat();
  const medians = rounds.map((r) => percentile(r, 50));
  const growth = rounds.length < 2 || !(medians[0] > 0) ? 0 : medians[medians.length - 1] / medians[0] - 1;
  return { first: all[0], last: all[all.length - 1], max: Math.max(...all), medians, growth, flat: growth <= tolerance };
}

/**
 * The run's verdict: the server is alive at the end, every malformed request got a 4xx (and none got
 * anything else or no answer), no good request failed, and the p99 latency of good requests in the mix
 * is within `factor` (2×) of the clean run at the same concurrency.
 *
 * @param {{ alive: boolean, rssFlat: boolean, mixes: Array<{ name: string, cleanP99: number, goodP99: number, goodFailed: number, bad: Record<string, { sent: number, fourxx: number }> }> }} r
 */
function verdict(r, factor = 2) {
  const failures = [];
  if (!r.alive) failures.push('the server did not answer /health after the run');
  if (!r.rssFlat) failures.push('resident memory grew by more than the tolerance over the run');
  for (const m of r.mixes) {
    for (const [kind, { sent, fourxx }] of Object.entries(m.bad)) {
      if (sent === 0) failures.push(`${m.name}: no ${kind} request was sent`);
      else if (fourxx !== sent) failures.push(`${m.name}: ${sent - fourxx} of ${sent} ${kind} requests got no 4xx`);
    }
    if (m.goodFailed > 0) failures.push(`${m.name}: ${m.goodFailed} good requests failed`);
    if (!(m.goodP99 <= factor * m.cleanP99))
      failures.push(`${m.name}: p99 ${Math.round(m.goodP99)} ms is over ${factor}× the clean run's ${Math.round(m.cleanP99)} ms`);
  }
  return { pass: failures.length === 0, failures };
}

/** Rows as a markdown table (header from the first row's keys). */
function markdownTable(rows) {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]);
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(keys), line(keys.map(() => '---')), ...rows.map((r) => line(keys.map((k) => String(r[k]))))].join('\n');
}

module.exports = { BAD_KINDS, badAfter, chatRequest, embeddingsRequest, malformedRequests, markdownTable, percentile, rssTrend, verdict };
