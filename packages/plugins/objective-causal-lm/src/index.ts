// @mmft/objective-causal-lm: the plugin object (a pure manifest; nothing registers on import).
import { definePlugin } from '@mmft/core';
import { causalLmProvider } from './plugin';

export { causalLmProvider } from './plugin';
export { causalLmConfigSchema, fewShotSchema, type CausalLmConfig, type FewShotConfig } from './config';
export { encodePieces, labelCount, labelsOf, specialPrefixIds, IGNORE_INDEX, type EncodedExample } from './encode';
export { chatPieces, conversationOf, interleavedPieces, plainPieces, type Piece } from './pieces';
export { drawDemos, drawShots, readPool, takesDemos, type DemoPool } from './episodes';
export { DEFAULT_SYSTEMS, NAMED_TEMPLATES, isNamedTemplate, templatePieces, type NamedTemplate, type TemplateOptions } from './templates';
export { createEncoder, type EncodedRow, type Encoder, type EncoderSetup } from './encoder';
export { formatPreview, previewExamples, type ExamplePreview, type PreviewRun, type PreviewSetup } from './preview';

const pkg = require('../package.json') as { name: string; version: string; description: string };

const plugin = definePlugin({ name: pkg.name, version: pkg.version, description: pkg.description, provides: [causalLmProvider] });
export default plugin;
