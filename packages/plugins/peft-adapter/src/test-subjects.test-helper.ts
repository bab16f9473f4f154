// Test models for the PEFT method tests: the core toy transformer (not CLIP) and the tiny
// HF-layout CLIP that @mmft/arch-clip provides for PEFT tests.
import { clipPeftSubject } from '@mmft/arch-clip';
import { peftToySubject, type PeftSubject } from '@mmft/core/testing';

/** The core toy transformer on two padded sequences. */
export const toySubject = (seed = 3): PeftSubject => peftToySubject(seed);

/** Tiny CLIP: logits_per_image of two images against two texts. */
export const clipSubject = clipPeftSubject;
