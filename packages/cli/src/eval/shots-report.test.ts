// The few-shot tables and charts checked against hand-worked values: the terminal table's cells,
// the markdown comparison, and the SVG's geometry (each dot's x in proportion to its shots between
// the plot's left and right edges, its y in proportion to its value between 0 at the bottom and
// the highest value at the top), read back from the SVG text.
import { describe, expect, test } from '@jest/globals';
import type { ShotsDocument } from './shots';
import { compareMarkdown, compareSvg, niceStep, shotsHtml, shotsLines, shotsSvg, shotsTable } from './shots-report';

const doc: ShotsDocument = {
  recipe: 'r.yaml',
  modelType: 'idefics',
  examples: 8,
  shots: [
    { shots: 0, metrics: { 'caption.cider': 10, 'vqa.accuracy': 25 }, evalLoss: 2.5, predictions: {} },
    { shots: 2, metrics: { 'caption.cider': 20.123456 }, evalLoss: 2.25, predictions: {} },
    { shots: 4, metrics: { 'caption.cider': 40, 'vqa.accuracy': 50 }, evalLoss: 2, predictions: {} },
  ],
};

/** Every dot of an SVG: its series, x, y and drawn position (in its panel's coordinates, as the frames). */
function dots(svg: string) {
  return [...svg.matchAll(/<circle cx="([\d.-]+)" cy="([\d.-]+)" r="3" data-series="([^"]*)" data-x="([^"]*)" data-y="([^"]*)"\/>/g)].map(
    (m) => ({
      cx: Number(m[1]),
      cy: Number(m[2]),
      series: m[3]!,
      x: Number(m[4]),
      y: Number(m[5]),
    }),
  );
}

/** The plot frames (the rect with a grey stroke) in drawing order, in the panel's own coordinates. */
function frames(svg: string) {
  return [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none" stroke="#ccc"\/>/g)].map((m) => ({
    left: Number(m[1]),
    top: Number(m[2]),
    right: Number(m[1]) + Number(m[3]),
    bottom: Number(m[2]) + Number(m[4]),
  }));
}

describe('shotsTable / shotsLines', () => {
  test('rows metrics then eval_loss, columns shots, 4 decimals, "-" where a pass has no score', () => {
    expect(shotsTable(doc)).toEqual({
      header: ['metric (8 examples)', '0-shot', '2-shot', '4-shot'],
      rows: [
        ['caption.cider', '10.0000', '20.1235', '40.0000'],
        ['vqa.accuracy', '25.0000', '-', '50.0000'],
        ['eval_loss', '2.5000', '2.2500', '2.0000'],
      ],
    });
    expect(shotsLines(doc)).toEqual([
      'metric (8 examples)   0-shot   2-shot   4-shot',
      '-------------------  -------  -------  -------',
      'caption.cider        10.0000  20.1235  40.0000',
      'vqa.accuracy         25.0000        -  50.0000',
      'eval_loss             2.5000   2.2500   2.0000',
    ]);
  });
  test('no eval_loss row when no pass reports a loss', () => {
    const noLoss = { ...doc, shots: doc.shots.map(({ evalLoss: _, ...e }) => e) };
    expect(shotsTable(noLoss).rows.map((r) => r[0])).toEqual(['caption.cider', 'vqa.accuracy']);
  });
});

describe('shotsSvg', () => {
  test('dots sit in proportion: x by shots between the frame edges, y by value from 0 (bottom) to the highest (top)', () => {
    const svg = shotsSvg('t', [
      {
        metric: 'caption.cider',
        series: [
          {
            name: 'a',
            points: [
              [0, 10],
              [2, 20],
              [4, 40],
            ],
          },
        ],
      },
    ]);
    const [frame] = frames(svg);
    const d = dots(svg);
    expect(d.map((p) => [p.x, p.y])).toEqual([
      [0, 10],
      [2, 20],
      [4, 40],
    ]);
    for (const p of d) {
      expect(p.cx).toBeCloseTo(frame!.left + (p.x / 4) * (frame!.right - frame!.left), 1);
      expect(p.cy).toBeCloseTo(frame!.bottom - (p.y / 40) * (frame!.bottom - frame!.top), 1);
    }
    expect(svg.match(/<path d="M[^"]*"/)![0]).toBe(`<path d="M${d.map((p) => `${p.cx.toFixed(1)},${p.cy.toFixed(1)}`).join(' L')}"`);
  });
  test('a negative value moves the bottom below 0; a non-finite point is left out; text is escaped', () => {
    const svg = shotsSvg('a <b> & c', [
      {
        metric: 'Δ',
        series: [
          {
            name: 'x<y',
            points: [
              [0, -10],
              [1, Number.NaN],
              [2, 30],
            ],
          },
          { name: 'z', points: [[0, 0]] },
        ],
      },
    ]);
    const [frame] = frames(svg);
    const d = dots(svg);
    expect(d.map((p) => [p.series, p.x, p.y])).toEqual([
      ['x&lt;y', 0, -10],
      ['x&lt;y', 2, 30],
      ['z', 0, 0],
    ]);
    // y from −10 (bottom) to 30 (top): 0 sits a quarter of the way up.
    expect(d[2]!.cy).toBeCloseTo(frame!.bottom - 0.25 * (frame!.bottom - frame!.top), 1);
    expect(d[0]!.cy).toBeCloseTo(frame!.bottom, 1);
    expect(svg).toContain('aria-label="a &lt;b&gt; &amp; c"');
    expect(svg).toContain('>x&lt;y</text>');
    expect(svg).not.toContain('NaN');
  });
  test('y ticks every 1, 2, 2.5 or 5 × 10^n, at most five steps; the top rounds out to a tick', () => {
    expect([45, 40, 1.3, 12, 100, 0.07, 0].map(niceStep)).toEqual([10, 10, 0.5, 2.5, 20, 0.02, 1]);
    const svg = shotsSvg('t', [
      {
        metric: 'm',
        series: [
          {
            name: 'a',
            points: [
              [0, 9],
              [1, 45],
            ],
          },
        ],
      },
    ]);
    const labels = [...svg.matchAll(/text-anchor="end">([^<]+)</g)].map((m) => Number(m[1]));
    expect(labels).toEqual([0, 10, 20, 30, 40, 50]);
    const [frame] = frames(svg);
    // 45 of a 0–50 axis: nine tenths of the way up.
    expect(dots(svg)[1]!.cy).toBeCloseTo(frame!.bottom - 0.9 * (frame!.bottom - frame!.top), 1);
  });
  test('panels two per row, each titled, the SVG as large as its panels', () => {
    const panels = ['m1', 'm2', 'm3'].map((metric) => ({ metric, series: [{ name: 'a', points: [[0, 1] as const] }] }));
    const svg = shotsSvg('t', panels);
    expect(svg).toMatch(/^<svg [^>]*width="720" height="508"/);
    expect([...svg.matchAll(/<g transform="translate\((\d+),(\d+)\)">/g)].map((m) => [Number(m[1]), Number(m[2])])).toEqual([
      [0, 28],
      [360, 28],
      [0, 268],
    ]);
    expect([...svg.matchAll(/font-weight="bold">(m\d)</g)].map((m) => m[1])).toEqual(['m1', 'm2', 'm3']);
  });
});

describe('comparison of several sweeps', () => {
  const other: ShotsDocument = {
    ...doc,
    modelType: 'llava',
    shots: [
      { shots: 0, metrics: { 'caption.cider': 30 }, predictions: {} },
      { shots: 4, metrics: { 'caption.cider': 25.5 }, predictions: {} },
    ],
  };
  const runs = [
    { name: 'IDEFICS', doc },
    { name: 'LLaVA', doc: other },
  ];
  test('markdown: a row per bridge, a column per metric@shots, "-" where a bridge has no score', () => {
    expect(compareMarkdown(runs)).toEqual([
      '| bridge | caption.cider@0 | caption.cider@2 | caption.cider@4 | vqa.accuracy@0 | vqa.accuracy@2 | vqa.accuracy@4 |',
      '|---|---:|---:|---:|---:|---:|---:|',
      '| IDEFICS | 10.00 | 20.12 | 40.00 | 25.00 | - | 50.00 |',
      '| LLaVA | 30.00 | - | 25.50 | - | - | - |',
    ]);
    expect(compareMarkdown(runs, ['vqa.accuracy'])[0]).toBe('| bridge | vqa.accuracy@0 | vqa.accuracy@2 | vqa.accuracy@4 |');
  });
  test('SVG: a panel per metric, a line per bridge with its own dots, the legend names both', () => {
    const svg = compareSvg('few-shot', runs);
    expect([...svg.matchAll(/font-weight="bold">([^<]+)</g)].map((m) => m[1])).toEqual(['few-shot', 'caption.cider', 'vqa.accuracy']);
    const d = dots(svg);
    expect(d.filter((p) => p.series === 'LLaVA').map((p) => [p.x, p.y])).toEqual([
      [0, 30],
      [4, 25.5],
    ]);
    expect(d.filter((p) => p.series === 'IDEFICS').length).toBe(5);
    expect(svg).toMatch(/<text x="\d+" y="34">IDEFICS<\/text>.*<text x="\d+" y="34">LLaVA<\/text>/);
    expect([...svg.matchAll(/font-weight="bold">([^<]+)</g)].length).toBe(3);
    expect([...compareSvg('only', runs, ['caption.cider']).matchAll(/<path /g)].length).toBe(2);
  });
});

test('report.html: the table and a panel per metric and eval_loss', () => {
  const html = shotsHtml('eval of <r>', doc);
  expect(html).toContain('<title>eval of &lt;r&gt;</title>');
  expect(html).toContain('<tr><td>caption.cider</td><td>10.0000</td><td>20.1235</td><td>40.0000</td></tr>');
  expect([...html.matchAll(/font-weight="bold">([^<]+)</g)].map((m) => m[1])).toEqual([
    'each metric against the number of shots',
    'caption.cider',
    'vqa.accuracy',
    'eval_loss',
  ]);
});
