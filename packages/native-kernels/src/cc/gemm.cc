// Batched SGEMM in the BLIS layout (Goto & van de Geijn 2008; blis/frame/3/gemm): B packed in
// KC×NR panels that stay in L1, A in MC×KC blocks in L2, an MR×NR register-blocked micro-kernel.
// The micro-kernel is compiled for AVX-512, AVX2+FMA and baseline x86-64, and GCC's
// target_clones picks one at load time from the CPU's own flags (no -march=native needed).
#include "gemm.h"
#include "clones.h"
#include "pool.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

namespace mmft {
namespace {

constexpr int MR = 8;
constexpr int NR = 32;
constexpr int KC = 256;
constexpr int MC = 128;
constexpr int NC = 512;

typedef float v16 __attribute__((vector_size(64)));


// acc(MR×NR) = Ap(kc×MR)ᵀ · Bp(kc×NR); then C = acc (first K block) or C += acc, valid part only.
MMFT_TARGET_CLONES void microKernel(int kc, const float* __restrict ap, const float* __restrict bp, float* __restrict c, int64_t ldc, int rows,
                             int cols, bool first) {
  v16 acc0[MR], acc1[MR];
  for (int r = 0; r < MR; r++) acc0[r] = acc1[r] = v16{};
  for (int p = 0; p < kc; p++) {
    const v16 b0 = *reinterpret_cast<const v16*>(bp);
    const v16 b1 = *reinterpret_cast<const v16*>(bp + 16);
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      const float a = ap[r];
      acc0[r] += a * b0;
      acc1[r] += a * b1;
    }
    ap += MR;
    bp += NR;
  }
  if (rows == MR && cols == NR) {
    for (int r = 0; r < MR; r++) {
      float* row = c + r * ldc;
      if (first) {
        std::memcpy(row, &acc0[r], 64);
        std::memcpy(row + 16, &acc1[r], 64);
      } else {
        v16 c0, c1;
        std::memcpy(&c0, row, 64);
        std::memcpy(&c1, row + 16, 64);
        c0 += acc0[r];
        c1 += acc1[r];
        std::memcpy(row, &c0, 64);
        std::memcpy(row + 16, &c1, 64);
      }
    }
    return;
  }
  alignas(64) float tile[MR * NR];
  for (int r = 0; r < MR; r++) {
    std::memcpy(tile + r * NR, &acc0[r], 64);
    std::memcpy(tile + r * NR + 16, &acc1[r], 64);
  }
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < cols; j++) c[r * ldc + j] = first ? tile[r * NR + j] : c[r * ldc + j] + tile[r * NR + j];
}

typedef float v8 __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MMFT_TARGET_CLONES_256 __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define MMFT_TARGET_CLONES_256
#endif

// The same MR×NR tile for CPUs with 16 vector registers (AVX2): the 16 accumulators of
// 16 floats above do not fit there and spill on every step (measured 1 GFLOP/s on an AVX2 EPYC
// against 7 for a plain loop), so the tile is done in four 4×16 passes of 8 eight-float
// accumulators, with the two B vectors and the broadcast A value beside them in registers.
MMFT_TARGET_CLONES_256 void microKernel256(int kc, const float* __restrict ap0, const float* __restrict bp0, float* __restrict c,
                                           int64_t ldc, int rows, int cols, bool first) {
  alignas(64) float tile[MR * NR];
  for (int rg = 0; rg < MR; rg += 4) {
    for (int cg = 0; cg < NR; cg += 16) {
      v8 acc[4][2];
      for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = v8{};
      const float* ap = ap0 + rg;
      const float* bp = bp0 + cg;
      for (int p = 0; p < kc; p++) {
        v8 b0, b1;
        std::memcpy(&b0, bp, 32);
        std::memcpy(&b1, bp + 8, 32);
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
          const float a = ap[r];
          acc[r][0] += a * b0;
          acc[r][1] += a * b1;
        }
        ap += MR;
        bp += NR;
      }
      for (int r = 0; r < 4; r++) {
        std::memcpy(tile + (rg + r) * NR + cg, &acc[r][0], 32);
        std::memcpy(tile + (rg + r) * NR + cg + 8, &acc[r][1], 32);
      }
    }
  }
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < cols; j++) c[r * ldc + j] = first ? tile[r * NR + j] : c[r * ldc + j] + tile[r * NR + j];
}

// Rows [i0, i0+mc) × cols [p0, p0+kc) of A into MR-row panels, zero-padded: panel[p][r].
void packA(const float* a, int64_t rs, int64_t cs, int i0, int mc, int p0, int kc, float* out) {
  for (int ir = 0; ir < mc; ir += MR) {
    const int rows = std::min(MR, mc - ir);
    if (rs == 1 && rows == MR) {
      // A stored transposed (a weight gradient's dyᵀ): the panel's MR rows are adjacent in
      // memory at each p, so copy them together instead of MR strided passes.
      for (int p = 0; p < kc; p++) std::memcpy(out + p * MR, a + (i0 + ir) + (p0 + p) * cs, MR * sizeof(float));
      out += MR * kc;
      continue;
    }
    for (int r = 0; r < MR; r++) {
      float* dst = out + r;
      if (r >= rows) {
        for (int p = 0; p < kc; p++) dst[p * MR] = 0.f;
        continue;
      }
      const float* src = a + (i0 + ir + r) * rs + p0 * cs;
      if (cs == 1)
        for (int p = 0; p < kc; p++) dst[p * MR] = src[p];
      else
        for (int p = 0; p < kc; p++) dst[p * MR] = src[p * cs];
    }
    out += MR * kc;
  }
}

// Rows [p0, p0+kc) × cols [j0, j0+nc) of B into NR-column panels, zero-padded: panel[p][j].
void packB(const float* b, int64_t rs, int64_t cs, int p0, int kc, int j0, int nc, float* out) {
  for (int jr = 0; jr < nc; jr += NR) {
    const int cols = std::min(NR, nc - jr);
    if (cs == 1) {
      for (int p = 0; p < kc; p++) {
        const float* src = b + (p0 + p) * rs + j0 + jr;
        float* dst = out + p * NR;
        std::memcpy(dst, src, cols * sizeof(float));
        if (cols < NR) std::memset(dst + cols, 0, (NR - cols) * sizeof(float));
      }
    } else {
      for (int j = 0; j < NR; j++) {
        float* dst = out + j;
        if (j >= cols) {
          for (int p = 0; p < kc; p++) dst[p * NR] = 0.f;
          continue;
        }
        const float* src = b + p0 * rs + (j0 + jr + j) * cs;
        for (int p = 0; p < kc; p++) dst[p * NR] = src[p * rs];
      }
    }
    out += NR * kc;
  }
}

// The unpacked path for thin products (LoRA's x·Aᵀ with N = r, B·(A·x) with K = r, decode's M = 8
// rows): A is read in place and B in place when its rows are contiguous, so nothing of size M·K is
// copied for a few columns of work, and no 32-column tile is computed for 8 valid columns. Each C
// element is summed as the blocked path sums it (from zero over p ascending within each KC block,
// the block's sum stored or added to C), with the same expression under the same target clones,
// so both paths give the same bits (checked by gemm.test.ts against the blocked path's shapes).
// Four rows × 16 columns (two 8-float accumulators per row); rows past `rows` repeat the last
// valid row so that nothing outside A is read, and their sums are dropped.
MMFT_TARGET_CLONES void directTile16(int kc, const float* const* ar, int64_t acs, const float* __restrict bp, int64_t ldb, float* __restrict c,
                                     int64_t ldc, int rows, int cols, bool first) {
  v8 acc[4][2];
  for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = v8{};
  for (int p = 0; p < kc; p++) {
    v8 b0, b1;
    std::memcpy(&b0, bp + p * ldb, 32);
    std::memcpy(&b1, bp + p * ldb + 8, 32);
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) {
      const float a = ar[r][p * acs];
      acc[r][0] += a * b0;
      acc[r][1] += a * b1;
    }
  }
  alignas(32) float tile[4 * 16];
  for (int r = 0; r < 4; r++) {
    std::memcpy(tile + r * 16, &acc[r][0], 32);
    std::memcpy(tile + r * 16 + 8, &acc[r][1], 32);
  }
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < cols; j++) c[r * ldc + j] = first ? tile[r * 16 + j] : c[r * ldc + j] + tile[r * 16 + j];
}

// The same for the last 8 (or fewer) columns: four rows × one 8-float accumulator.
MMFT_TARGET_CLONES void directTile8(int kc, const float* const* ar, int64_t acs, const float* __restrict bp, int64_t ldb, float* __restrict c,
                                    int64_t ldc, int rows, int cols, bool first) {
  v8 acc[4];
  for (int r = 0; r < 4; r++) acc[r] = v8{};
  for (int p = 0; p < kc; p++) {
    v8 b0;
    std::memcpy(&b0, bp + p * ldb, 32);
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) acc[r] += ar[r][p * acs] * b0;
  }
  alignas(32) float tile[4 * 8];
  for (int r = 0; r < 4; r++) std::memcpy(tile + r * 8, &acc[r], 32);
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < cols; j++) c[r * ldc + j] = first ? tile[r * 8 + j] : c[r * ldc + j] + tile[r * 8 + j];
}

struct Buffers {
  std::vector<float> a, b;
  float* aligned(std::vector<float>& v, size_t n) {
    if (v.size() < n + 16) v.resize(n + 16);
    auto p = reinterpret_cast<uintptr_t>(v.data());
    return reinterpret_cast<float*>((p + 63) & ~uintptr_t(63));
  }
};

// Rows [iBegin, iEnd) of one slice through the unpacked tiles above. B is read in place when its
// rows are contiguous and a whole number of 8-float vectors wide, else copied once into rows of
// n rounded up to 8 (K·N floats, small next to the M·N·K of work for the shapes sent here).
void directRows(int n, int k, const float* a, int64_t ars, int64_t acs, const float* b, int64_t brs, int64_t bcs, float* c, int64_t ldc, int iBegin,
                int iEnd, Buffers& buf) {
  const float* bp = b;
  int64_t ldb = brs;
  if (bcs != 1 || n % 8 != 0) {
    ldb = (n + 7) / 8 * 8;
    float* packed = buf.aligned(buf.b, size_t(ldb) * k);
    for (int p = 0; p < k; p++) {
      float* row = packed + p * ldb;
      if (bcs == 1)
        std::memcpy(row, b + p * brs, n * sizeof(float));
      else
        for (int j = 0; j < n; j++) row[j] = b[p * brs + j * bcs];
      for (int j = n; j < ldb; j++) row[j] = 0.f;
    }
    bp = packed;
  }
  for (int pc = 0; pc < k; pc += KC) {
    const int kc = std::min(KC, k - pc);
    for (int i = iBegin; i < iEnd; i += 4) {
      const int rows = std::min(4, iEnd - i);
      const float* ar[4];
      for (int r = 0; r < 4; r++) ar[r] = a + int64_t(i + std::min(r, rows - 1)) * ars + int64_t(pc) * acs;
      float* ci = c + int64_t(i) * ldc;
      int j = 0;
      for (; j + 8 < n; j += 16)
        directTile16(kc, ar, acs, bp + pc * ldb + j, ldb, ci + j, ldc, rows, std::min(16, n - j), pc == 0);
      if (j < n) directTile8(kc, ar, acs, bp + pc * ldb + j, ldb, ci + j, ldc, rows, n - j, pc == 0);
    }
  }
}

// Whether a product goes through directRows. Measured one thread on an AVX2 EPYC (LLaVA's shapes,
// both paths, alternating; docs/benchmarks.md, LLaVA): N ≤ 32 wins 1.5–4.5× (the blocked tile is 32
// wide and A's packing is paid for a few columns; N = 64 is mixed), K ≤ 16 1.2–2× (K = 24 and 32
// lose), M ≤ 16 1.4–2.7× when B's rows are contiguous (M = 32 and 64 tie or lose; a transposed B is
// gathered faster by packB's panels).
bool useDirect(int m, int n, int k, int64_t bcs) { return n <= 32 || k <= 16 || (m <= 16 && bcs == 1); }

// Rows [iBegin, iEnd) of one slice; C's rows are `ldc` floats apart.
void gemmRows(int m, int n, int k, const float* a, int64_t ars, int64_t acs, const float* b, int64_t brs, int64_t bcs, float* c, int64_t ldc,
              int iBegin, int iEnd, Buffers& buf) {
  // 32 vector registers (AVX-512) hold the 16×16-float tile; everything else gets the 4×16 passes.
  static const auto kernel = std::strcmp(kernelIsa(), "avx512") == 0 ? microKernel : microKernel256;
  if (k == 0) {
    for (int i = iBegin; i < iEnd; i++) std::memset(c + int64_t(i) * ldc, 0, n * sizeof(float));
    return;
  }
  if (useDirect(m, n, k, bcs)) {
    directRows(n, k, a, ars, acs, b, brs, bcs, c, ldc, iBegin, iEnd, buf);
    return;
  }
  for (int jc = 0; jc < n; jc += NC) {
    const int nc = std::min(NC, n - jc);
    const int ncPadded = (nc + NR - 1) / NR * NR;
    for (int pc = 0; pc < k; pc += KC) {
      const int kc = std::min(KC, k - pc);
      float* bp = buf.aligned(buf.b, size_t(ncPadded) * kc);
      packB(b, brs, bcs, pc, kc, jc, nc, bp);
      for (int ic = iBegin; ic < iEnd; ic += MC) {
        const int mc = std::min(MC, iEnd - ic);
        const int mcPadded = (mc + MR - 1) / MR * MR;
        float* ap = buf.aligned(buf.a, size_t(mcPadded) * kc);
        packA(a, ars, acs, ic, mc, pc, kc, ap);
        for (int jr = 0; jr < nc; jr += NR) {
          const int cols = std::min(NR, nc - jr);
          for (int ir = 0; ir < mc; ir += MR) {
            const int rows = std::min(MR, mc - ir);
            kernel(kc, ap + ir * kc, bp + jr * kc, c + int64_t(ic + ir) * ldc + jc + jr, ldc, rows, cols, pc == 0);
          }
        }
      }
    }
  }
}

thread_local Buffers tlsBuffers;

}  // namespace

void gemmSerial(int m, int n, int k, Operand a, Operand b, float* c, int64_t ldc) {
  if (m > 0 && n > 0) gemmRows(m, n, k, a.base, a.row, a.col, b.base, b.row, b.col, c, ldc, 0, m, tlsBuffers);
}

const char* kernelIsa() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
#endif
  return "generic";
}

void gemm(int batches, int m, int n, int k, Operand a, Operand b, float* c, int threads) {
  const double macs = double(batches) * m * n * k;
  // Below ~64k multiply-adds a second thread costs more to wake than it saves.
  int t = macs < 65536.0 ? 1 : std::max(1, threads);
  // Work items: whole slices when there are enough of them, else row chunks of every slice.
  const int chunksPerSlice = batches >= t ? 1 : (t + batches - 1) / batches;
  const int rowsPerChunk = std::max(MR, (m + chunksPerSlice - 1) / chunksPerSlice / MR * MR + (m % chunksPerSlice ? MR : 0));
  const int chunks = (m + rowsPerChunk - 1) / rowsPerChunk;
  const int64_t items = int64_t(batches) * std::max(1, chunks);
  t = int(std::min<int64_t>(t, items));
  auto work = [&](int worker) {
    const int64_t begin = items * worker / t, end = items * (worker + 1) / t;
    for (int64_t item = begin; item < end; item++) {
      const int64_t slice = item / std::max(1, chunks);
      const int chunk = int(item % std::max(1, chunks));
      const int iBegin = chunk * rowsPerChunk, iEnd = std::min(m, iBegin + rowsPerChunk);
      if (iBegin >= iEnd) continue;
      gemmRows(m, n, k, a.base + slice * a.batch, a.row, a.col, b.base + slice * b.batch, b.row, b.col, c + slice * int64_t(m) * n, n, iBegin,
               iEnd, tlsBuffers);
    }
  };
  if (t <= 1) {
    work(0);
    return;
  }
  runParallel(t, work);
}

}  // namespace mmft
