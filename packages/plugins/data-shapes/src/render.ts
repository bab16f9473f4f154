// Draws a scene as SVG and rasterises it to PNG with sharp (librsvg, offline). Domain A: flat
// shapes on a plain light background. Domain B, the shift to fine-tune on: a gradient background
// with a texture, and objects restyled as striped fills with dark outlines (same colours and
// geometry, so the ground truth and the words are shared).
import sharp from 'sharp';
import { SeededRng } from '@mmft/image';
import type { Scene, SceneObject } from './scene';
import { COLOR_INFO, SIZE_INFO } from './vocabulary';

const BACKGROUNDS_B = [
  ['#d7ccc8', '#8d6e63'],
  ['#cfd8dc', '#546e7a'],
  ['#f0f4c3', '#9e9d24'],
  ['#e1bee7', '#6a1b9a'],
  ['#b2dfdb', '#00695c'],
] as const;

function polygon(cx: number, cy: number, radius: number, corners: number, rotation: number, inner?: number): string {
  const points: string[] = [];
  const steps = inner === undefined ? corners : corners * 2;
  for (let k = 0; k < steps; k++) {
    const r = inner !== undefined && k % 2 === 1 ? radius * inner : radius;
    const angle = rotation + (2 * Math.PI * k) / steps;
    points.push(`${(cx + r * Math.cos(angle)).toFixed(2)},${(cy + r * Math.sin(angle)).toFixed(2)}`);
  }
  return points.join(' ');
}

function shapeElement(o: SceneObject, paint: string): string {
  const r = SIZE_INFO[o.size].radius;
  switch (o.shape) {
    case 'circle':
      return `<circle cx="${o.x}" cy="${o.y}" r="${r}" ${paint}/>`;
    case 'square': {
      const half = r * 0.85; // similar area to the circle
      return `<rect x="${o.x - half}" y="${o.y - half}" width="${2 * half}" height="${2 * half}" ${paint}/>`;
    }
    case 'triangle':
      return `<polygon points="${polygon(o.x, o.y + r * 0.15, r * 1.15, 3, -Math.PI / 2)}" ${paint}/>`;
    case 'star':
      return `<polygon points="${polygon(o.x, o.y, r * 1.15, 5, -Math.PI / 2, 0.45)}" ${paint}/>`;
    case 'hexagon':
      return `<polygon points="${polygon(o.x, o.y, r * 1.05, 6, 0)}" ${paint}/>`;
  }
}

function domainA(scene: Scene): string {
  const shapes = scene.objects.map((o) => shapeElement(o, `fill="${COLOR_INFO[o.color].fill}"`));
  return `<rect width="100" height="100" fill="#f5f5f5"/>${shapes.join('')}`;
}

function domainB(scene: Scene): string {
  const rng = new SeededRng(scene.styleSeed);
  const [light, dark] = rng.pick(BACKGROUNDS_B);
  const angle = rng.int(0, 179);
  const defs = [
    `<linearGradient id="bg" gradientTransform="rotate(${angle} 0.5 0.5)"><stop offset="0" stop-color="${light}"/><stop offset="1" stop-color="${dark}"/></linearGradient>`,
    `<pattern id="tex" width="6" height="6" patternUnits="userSpaceOnUse"><circle cx="3" cy="3" r="0.9" fill="#ffffff" fill-opacity="0.35"/></pattern>`,
    ...scene.objects.map((o, i) => {
      const c = COLOR_INFO[o.color];
      return `<pattern id="s${i}" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="4" height="4" fill="#ffffff"/><rect width="2.6" height="4" fill="${c.fill}"/></pattern>`;
    }),
  ];
  const shapes = scene.objects.map((o, i) => shapeElement(o, `fill="url(#s${i})" stroke="${COLOR_INFO[o.color].dark}" stroke-width="2"`));
  return `<defs>${defs.join('')}</defs><rect width="100" height="100" fill="url(#bg)"/><rect width="100" height="100" fill="url(#tex)"/>${shapes.join('')}`;
}

/**
 * The scene as an SVG document of `size × size` pixels.
 *
 * @example
 * const svg = sceneToSvg(sampleScene(0, 0, 'B', 4), 64);
 */
export function sceneToSvg(scene: Scene, size: number): string {
  const body = scene.domain === 'A' ? domainA(scene) : domainB(scene);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 100 100">${body}</svg>`;
}

/** Rasterise the scene to PNG bytes; the same scene and size always give the same bytes. */
export async function renderScenePng(scene: Scene, size: number): Promise<Uint8Array> {
  const png = await sharp(Buffer.from(sceneToSvg(scene, size)))
    .png()
    .toBuffer();
  // a plain Uint8Array view: what ImageRef holds, and @types/node 20's Buffer does not fit TS 5.9's Uint8Array type
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
