// Writes models/shapes-tokenizer/: the word-level tokenizer (HF tokenizer.json layout, Chinese per
// character) for the shapes vocabulary, used by recipes/clip-shapes-pretrain.yaml.
// Usage: node packages/demo/dist/make-shapes-tokenizer.js [outDir]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { wordLevelTokenizerFileMap } from '@mmft/arch-clip';
import { shapesTexts } from './shapes-vocabulary';

async function main(): Promise<void> {
  const outDir = path.resolve(process.argv[2] ?? 'models/shapes-tokenizer');
  const { files, ids } = wordLevelTokenizerFileMap(await shapesTexts(400), { modelMaxLength: 32 });
  fs.mkdirSync(outDir, { recursive: true });
  for (const [name, text] of files) fs.writeFileSync(path.join(outDir, name), text);
  process.stdout.write(`wrote ${outDir}: vocab_size ${ids.vocabSize}, bos ${ids.bos}, eos ${ids.eos} (= pad)\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
