// One build for every x86-64: GCC's target_clones compiles a function for AVX-512
// (x86-64-v4), AVX2+FMA (x86-64-v3) and baseline, and picks one at load time from the CPU's own
// flags, so the addon is not tied to the build machine's -march. Elsewhere it is a no-op.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MMFT_TARGET_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MMFT_TARGET_CLONES
#endif
