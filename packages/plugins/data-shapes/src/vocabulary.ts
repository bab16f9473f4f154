// The closed world of the shapes dataset: shapes, colours and sizes with their English and
// Chinese words and their paint. Chinese uses the 颜色词 + 的 + 形状词 pattern ("红色的圆形").

export const SHAPES = ['circle', 'square', 'triangle', 'star', 'hexagon'] as const;
export type ShapeName = (typeof SHAPES)[number];

export const COLORS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'] as const;
export type ColorName = (typeof COLORS)[number];

export const SIZES = ['small', 'large'] as const;
export type SizeName = (typeof SIZES)[number];

export const DOMAINS = ['A', 'B'] as const;
export type Domain = (typeof DOMAINS)[number];

export const SHAPE_WORDS: Readonly<Record<ShapeName, { en: string; enPlural: string; zh: string }>> = {
  circle: { en: 'circle', enPlural: 'circles', zh: '圆形' },
  square: { en: 'square', enPlural: 'squares', zh: '正方形' },
  triangle: { en: 'triangle', enPlural: 'triangles', zh: '三角形' },
  star: { en: 'star', enPlural: 'stars', zh: '星形' },
  hexagon: { en: 'hexagon', enPlural: 'hexagons', zh: '六边形' },
};

/** Colour words and paints; `dark` outlines the restyled objects of domain B. */
export const COLOR_INFO: Readonly<Record<ColorName, { en: string; zh: string; fill: string; dark: string }>> = {
  red: { en: 'red', zh: '红色', fill: '#e53935', dark: '#8e1b1b' },
  green: { en: 'green', zh: '绿色', fill: '#43a047', dark: '#1b5e20' },
  blue: { en: 'blue', zh: '蓝色', fill: '#1e88e5', dark: '#0d47a1' },
  yellow: { en: 'yellow', zh: '黄色', fill: '#fdd835', dark: '#9e8600' },
  purple: { en: 'purple', zh: '紫色', fill: '#8e24aa', dark: '#4a148c' },
  orange: { en: 'orange', zh: '橙色', fill: '#fb8c00', dark: '#a14f00' },
};

export const SIZE_INFO: Readonly<Record<SizeName, { en: string; zh: string; radius: number }>> = {
  // radius in percent of the image side; two large neighbours can overlap (occlusion)
  small: { en: 'small', zh: '小', radius: 8 },
  large: { en: 'large', zh: '大', radius: 13 },
};

/** Chinese numerals for counts 0–4 as used before a measure word ("两个", not "二个"). */
export const ZH_COUNT = ['零', '一', '两', '三', '四'] as const;
export const EN_COUNT = ['no', 'one', 'two', 'three', 'four'] as const;
