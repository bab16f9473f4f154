// The load test's pieces (pieces.js), checked by hand: the malformed requests are malformed in the
// way their kind says, one request in ten is bad, percentiles by nearest rank, the RSS verdict
// compares passes of the same workload, and the verdict names each failed condition.
'use strict';
const { describe, expect, test } = require('@jest/globals');
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

describe('requests', () => {
  test('good requests are OpenAI-shaped JSON', () => {
    expect(JSON.parse(embeddingsRequest('clip', 'a red circle').body)).toEqual({ model: 'clip', input: ['a red circle'] });
    const chat = chatRequest('llama', 'hi', 8);
    expect(chat.path).toBe('/v1/chat/completions');
    expect(JSON.parse(chat.body)).toEqual({ model: 'llama', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8, temperature: 0 });
  });

  test('each malformed kind is broken as its name says', () => {
    const bad = malformedRequests('/v1/embeddings', 'clip', 1000);
    expect(bad.map((b) => b.kind)).toEqual(BAD_KINDS);
    const byKind = Object.fromEntries(bad.map((b) => [b.kind, b]));
    expect(() => JSON.parse(byKind['bad-json'].body)).toThrow(SyntaxError);
    const url = JSON.parse(byKind['broken-base64'].body).input[0];
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    expect(/^[A-Za-z0-9+/]*={0,2}$/.test(url.slice('data:image/png;base64,'.length))).toBe(false);
    // Valid base64 of bytes that are no PNG (no \x89PNG signature): a CSV file.
    const payload = Buffer.from(JSON.parse(byKind['not-an-image'].body).input[0].split(',')[1], 'base64');
    expect(payload.toString('utf8')).toBe('name,colour\ncircle,red\n');
    // The huge body is valid JSON of the asked size (give or take the wrapper), so only its size is wrong.
    const huge = byKind['huge-body'].body;
    expect(Math.abs(Buffer.byteLength(huge) - 1000)).toBeLessThan(64);
    expect(JSON.parse(huge).model).toBe('clip');
    expect(malformedRequests('/v1/embeddings', 'clip').find((b) => b.kind === 'huge-body').body.length).toBeGreaterThanOrEqual(
      50 * 1024 * 1024 - 64,
    );
  });

  test('on the chat route the images travel as image_url parts', () => {
    const bad = malformedRequests('/v1/chat/completions', 'llava', 100);
    const part = JSON.parse(bad[1].body).messages[0].content[1];
    expect(part.type).toBe('image_url');
    expect(part.image_url.url.startsWith('data:image/png;base64,')).toBe(true);
  });

  test('badAfter: one bad after every ninth good answer, the kinds in turn, so 40 of 400 requests are bad, 10 of each kind', () => {
    expect([0, 1, 8, 10].map((n) => badAfter(n))).toEqual([undefined, undefined, undefined, undefined]);
    expect([9, 18, 27, 36, 45].map((n) => badAfter(n))).toEqual([...BAD_KINDS, BAD_KINDS[0]]);
    const sent = [];
    for (let good = 1; good <= 360; good++) {
      const k = badAfter(good);
      if (k) sent.push(k);
    }
    expect(sent).toHaveLength(40);
    expect(sent.length / (sent.length + 360)).toBe(0.1);
    for (const k of BAD_KINDS) expect(sent.filter((s) => s === k)).toHaveLength(10);
  });
});

test('percentile by nearest rank', () => {
  const v = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  expect(percentile(v, 50)).toBe(5);
  expect(percentile(v, 99)).toBe(10);
  expect(percentile(v, 10)).toBe(1);
  expect(percentile([7], 99)).toBe(7);
  expect(percentile([], 50)).toBeNaN();
});

describe('rssTrend', () => {
  const MiB = 2 ** 20;
  test('two passes at the same level are flat, whatever the spikes', () => {
    const t = rssTrend([[200, 210, 330, 205].map((x) => x * MiB), [215, 205, 320, 212].map((x) => x * MiB)]);
    expect(t.medians).toEqual([205 * MiB, 212 * MiB]);
    expect(t.growth).toBeCloseTo(212 / 205 - 1, 10);
    expect(t).toMatchObject({ first: 200 * MiB, last: 212 * MiB, max: 330 * MiB, flat: true });
  });
  test('a second pass 30 % higher is a leak at the 20 % tolerance, not at 40 %', () => {
    const rounds = [
      [100, 100, 100],
      [130, 130, 130],
    ];
    expect(rssTrend(rounds).flat).toBe(false);
    expect(rssTrend(rounds, 0.4).flat).toBe(true);
  });
});

describe('verdict', () => {
  const mix = (over = {}) => ({
    name: 'embeddings mix',
    cleanP99: 100,
    goodP99: 150,
    goodFailed: 0,
    bad: Object.fromEntries(BAD_KINDS.map((k) => [k, { sent: 10, fourxx: 10 }])),
    ...over,
  });
  test('passes when alive, flat, every bad one a 4xx and p99 within 2×', () => {
    expect(verdict({ alive: true, rssFlat: true, mixes: [mix(), mix({ goodP99: 200 })] })).toEqual({ pass: true, failures: [] });
  });
  test('names each failure', () => {
    const r = verdict({
      alive: false,
      rssFlat: false,
      mixes: [mix({ goodP99: 201, goodFailed: 2, bad: { 'bad-json': { sent: 10, fourxx: 9 }, 'huge-body': { sent: 0, fourxx: 0 } } })],
    });
    expect(r.pass).toBe(false);
    expect(r.failures).toEqual([
      'the server did not answer /health after the run',
      'resident memory grew by more than the tolerance over the run',
      'embeddings mix: 1 of 10 bad-json requests got no 4xx',
      'embeddings mix: no huge-body request was sent',
      'embeddings mix: 2 good requests failed',
      "embeddings mix: p99 201 ms is over 2× the clean run's 100 ms",
    ]);
  });
  test('a missing p99 (no good answer at all) fails', () => {
    expect(verdict({ alive: true, rssFlat: true, mixes: [mix({ goodP99: NaN })] }).pass).toBe(false);
  });
});

test('markdownTable', () => {
  expect(
    markdownTable([
      { run: 'a', 'p99 ms': 5 },
      { run: 'b', 'p99 ms': 7 },
    ]),
  ).toBe('| run | p99 ms |\n| --- | --- |\n| a | 5 |\n| b | 7 |');
  expect(markdownTable([])).toBe('');
});
