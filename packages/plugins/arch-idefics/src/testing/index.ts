// @mmft/arch-idefics/testing: tiny part folders an IDEFICS is composed from, for tests of this and
// other packages (the CLI's generate with several images).
export * from './tiny-parts';
