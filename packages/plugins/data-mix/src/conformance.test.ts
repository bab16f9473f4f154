// The shared dataset conformance kit on mixes of fake sources: one case per task (a mix yields
// whatever its sources yield), across the three strategies.
import { describeDataset } from '@mmft/core/testing';
import { fakeContext } from './fake-sources.test-helper';
import { mixProvider } from './plugin';

const pair = (task: string) => [
  { type: 'fake', task, n: 3, prefix: 'a' },
  { type: 'fake', task, n: 4, prefix: 'b' },
];

describeDataset(mixProvider, {
  cases: [
    { config: { sources: pair('caption') }, context: fakeContext(), task: 'caption' },
    { config: { sources: pair('vqa'), strategy: 'interleave_under' }, context: fakeContext(), task: 'vqa' },
    { config: { sources: pair('retrieval'), strategy: 'interleave_over' }, context: fakeContext(), task: 'retrieval' },
    {
      config: {
        sources: [...pair('instruction'), { type: 'stream', task: 'instruction', n: 2, prefix: 'a' }],
        strategy: 'interleave_over',
        probabilities: [0.5, 0.3, 0.2],
      },
      context: fakeContext(),
      task: 'instruction',
    },
    {
      config: { sources: pair('text'), strategy: 'interleave_under', probabilities: [0.4, 0.6], seed: 3 },
      context: fakeContext(),
      task: 'text',
    },
    { config: { sources: pair('interleaved') }, context: fakeContext(), task: 'interleaved' },
  ],
});
