// Samples a scene: 1–N objects with distinct colours (so "the red object" names one object),
// shapes that may repeat (so counting is non-trivial), and distinct columns (so left/right is
// never ambiguous); neighbours may overlap, and drawing order decides what is occluded.
import { deriveSeed, SeededRng } from '@mmft/image';
import { COLORS, SHAPES, SIZES, type ColorName, type Domain, type ShapeName, type SizeName } from './vocabulary';

export interface SceneObject {
  readonly shape: ShapeName;
  readonly color: ColorName;
  readonly size: SizeName;
  /** Centre in percent of the image side (0–100). */
  readonly x: number;
  readonly y: number;
}

export interface Scene {
  readonly index: number;
  readonly domain: Domain;
  /** Objects in drawing order: later ones cover earlier ones. */
  readonly objects: readonly SceneObject[];
  /** Seed of everything else about this image (background style, phrasing choices). */
  readonly styleSeed: number;
}

const COLUMNS = 4;

/**
 * Scene `index` of the dataset with `seed`: depends only on (seed, index), so any subset or
 * order of indices can be generated independently (sharding, resume).
 *
 * @example
 * const scene = sampleScene(0, 12, 'A', 4); // scene.objects.length in 1..4
 */
export function sampleScene(seed: number, index: number, domain: Domain, maxObjects: number): Scene {
  const rng = new SeededRng(deriveSeed(seed, index));
  const count = rng.int(1, maxObjects);
  const colors = rng.shuffle(COLORS).slice(0, count);
  const columns = rng.shuffle([...Array(COLUMNS).keys()]).slice(0, count);
  const objects = colors.map((color, i): SceneObject => ({
    shape: rng.pick(SHAPES),
    color,
    size: rng.pick(SIZES),
    // column centres 17, 39, 61, 83 (±2): even a large shape stays inside the frame
    x: Math.round(17 + 22 * (columns[i] as number) + rng.uniform(-2, 2)),
    y: Math.round(rng.uniform(25, 75)),
  }));
  return { index, domain, objects, styleSeed: deriveSeed(seed, index, 1) };
}

/** The objects ordered left to right. */
export function leftToRight(scene: Scene): SceneObject[] {
  return [...scene.objects].sort((a, b) => a.x - b.x);
}
