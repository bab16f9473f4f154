#!/usr/bin/env node
// Renders shapes scenes of both domains as raw 64x64 RGB bytes (<out>.u8) and their ground truth
// (<out>.json), for shape-classifier.py. Usage (after `pnpm build`):
//   node scripts/vit-shape-probe/dump-scenes.cjs <n per domain> <seed> <max objects> <out prefix>
const fs = require('node:fs');
const path = require('node:path');
const root = path.resolve(__dirname, '..', '..');
const shapes = require(path.join(root, 'packages/plugins/data-shapes/dist/index.js'));
const sharp = require(require.resolve('sharp', { paths: [path.join(root, 'packages/plugins/data-shapes')] }));

async function main() {
  const [n, seed, maxObjects] = process.argv.slice(2, 5).map(Number);
  const out = process.argv[5];
  const size = 64;
  const pixels = Buffer.alloc(n * 2 * size * size * 3);
  const labels = [];
  for (const domain of ['A', 'B']) {
    for (let i = 0; i < n; i++) {
      const scene = shapes.sampleScene(seed, i, domain, maxObjects);
      const raw = await sharp(Buffer.from(await shapes.renderScenePng(scene, size)))
        .removeAlpha()
        .raw()
        .toBuffer();
      raw.copy(pixels, labels.length * size * size * 3);
      labels.push({ domain, objects: scene.objects });
    }
  }
  fs.writeFileSync(`${out}.u8`, pixels);
  fs.writeFileSync(`${out}.json`, JSON.stringify(labels));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
