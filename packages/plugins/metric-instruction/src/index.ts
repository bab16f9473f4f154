// @mmft/metric-instruction: the plugin object (a pure manifest; nothing registers on import).
import { definePlugin } from '@mmft/core';
import { instructionMetric } from './plugin';

export { instructionMetric, rulesFor, scoreReply } from './plugin';
export { instructionConfigSchema, type InstructionConfig, type InstructionConfigInput } from './config';
export { normalizeSquad, squadExact, squadF1 } from './squad';
export { cmrcExact, cmrcF1, segmentCmrc, stripCmrc } from './cmrc';

const pkg = require('../package.json') as { name: string; version: string };

const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description:
    'Instruction-following score: exact match and token F1 of generated replies against reference replies (SQuAD v1.1 rules; CMRC 2018 rules for Chinese)',
  provides: [instructionMetric],
});
export default plugin;
