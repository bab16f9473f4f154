// The shapes dataset runs core's dataset conformance kit for every task it declares, on a few tiny
// scenes (one case in both languages, so ids stay unique when each scene yields two examples).
import { describeDataset } from '@mmft/core/testing';
import { shapesDataset } from './plugin';

const tiny = { n: 5, imageSize: 16, maxObjects: 2 };

describeDataset(shapesDataset, {
  cases: [
    { config: { ...tiny, task: 'caption' }, task: 'caption' },
    { config: { ...tiny, task: 'caption', lang: 'both', domain: 'B' }, task: 'caption' },
    { config: { ...tiny, task: 'vqa', questionsPerImage: 2 }, task: 'vqa' },
    { config: { ...tiny, task: 'retrieval' }, task: 'retrieval' },
    { config: { ...tiny, task: 'instruction', lang: 'zh' }, task: 'instruction' },
    { config: { task: 'text', n: 4, lang: 'both' }, task: 'text' },
    { config: { task: 'text', n: 20, lang: 'both', split: 'eval' }, task: 'text' },
    { config: { task: 'instruction', images: false, n: 4, lang: 'both' }, task: 'instruction' },
  ],
});
