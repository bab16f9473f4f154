// Builds the optional CUDA addon (build/Release/mmft_cuda.node) and the standalone self-test
// (build/Release/mmft_cuda_selftest) with nvcc, against the running Node's own headers
// (<node prefix>/include/node: nothing is downloaded). Without nvcc or the headers it says why,
// writes the reason to build/Release/build-status.json (loadCudaKernels() reports it) and exits 0:
// a machine without CUDA installs and builds mmft as usual.
//   node scripts/build-cuda.js     build when a source is newer than the outputs
//   MMFT_CUDA_BUILD=0              skip          MMFT_CUDA_FORCE=1  rebuild anyway
//   MMFT_CUDA_ARCH="sm_90"         target list (default sm_80,sm_90 + compute_90 PTX for newer GPUs)
//   MMFT_CUDA_BUILD_DIR=dir          write there instead of build/Release (tests)
//   NVCC=/path/to/nvcc             the compiler (else $CUDA_HOME/bin, $CUDA_PATH/bin, PATH, /usr/local/cuda/bin)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const out = process.env.MMFT_CUDA_BUILD_DIR ? path.resolve(process.env.MMFT_CUDA_BUILD_DIR) : path.join(root, 'build', 'Release');
const say = (msg) => console.log(`@mmft/cuda-kernels: ${msg}`);

function finish(built, reason) {
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'build-status.json'), JSON.stringify({ built, reason }, null, 2) + '\n');
  say(reason);
  process.exit(0);
}

if (process.env.MMFT_CUDA_BUILD === '0') finish(false, 'MMFT_CUDA_BUILD=0: CUDA kernels not built');

function findNvcc() {
  const candidates = [process.env.NVCC];
  for (const home of [process.env.CUDA_HOME, process.env.CUDA_PATH]) if (home) candidates.push(path.join(home, 'bin', 'nvcc'));
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(path.join(dir, 'nvcc'));
  candidates.push('/usr/local/cuda/bin/nvcc');
  return candidates.find((file) => file && fs.existsSync(file));
}

// The Node headers ship with official tarballs and distro packages; node-gyp's cache is the fallback.
function nodeInclude() {
  const prefix = path.dirname(path.dirname(process.execPath));
  const home = process.env.HOME ?? '';
  const dirs = [
    path.join(prefix, 'include', 'node'),
    '/usr/include/node',
    path.join(home, '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
  ];
  return dirs.find((dir) => fs.existsSync(path.join(dir, 'node_api.h')));
}

const nvcc = findNvcc();
if (!nvcc)
  finish(false, 'nvcc not found (NVCC, CUDA_HOME, CUDA_PATH, PATH, /usr/local/cuda/bin): CUDA kernels not built; mmft runs without them');
const include = nodeInclude();
if (!include) finish(false, 'Node headers (node_api.h) not found under <node prefix>/include/node: CUDA kernels not built');

const cu = path.join(root, 'src', 'cu');
const kernels = ['dequantize4bit.cu', 'matvec4bit.cu', 'matmul4bit.cu', 'host.cu'].map((f) => path.join(cu, f));
const addonSources = [...kernels, path.join(cu, 'napi', 'addon.cc')];
const selftestSources = [...kernels, path.join(cu, 'selftest.cu')];
const headers = ['kernels.h', 'common.cuh'].map((f) => path.join(cu, f));
const addon = path.join(out, 'mmft_cuda.node');
const selftest = path.join(out, 'mmft_cuda_selftest');

const mtime = (file) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0);
const newest = Math.max(...[...addonSources, ...selftestSources, ...headers, __filename].map(mtime));
if (process.env.MMFT_CUDA_FORCE !== '1' && mtime(addon) > newest && mtime(selftest) > newest) {
  finish(true, 'CUDA kernels up to date: build/Release/mmft_cuda.node');
}

const arches = (process.env.MMFT_CUDA_ARCH ?? 'sm_80,sm_90')
  .split(',')
  .map((a) => a.trim())
  .filter(Boolean);
const gencode = arches.flatMap((arch) => {
  if (arch === 'native') return ['-arch=native'];
  const number = arch.replace(/^(sm|compute)_/, '');
  return ['-gencode', `arch=compute_${number},code=sm_${number}`];
});
// PTX of the last target lets the driver compile for GPUs newer than the list.
const last = arches[arches.length - 1]?.replace(/^(sm|compute)_/, '');
if (last && last !== 'native') gencode.push('-gencode', `arch=compute_${last},code=compute_${last}`);

// cudart is linked statically: the addon then needs only the driver (libcuda) at run time, and on a
// machine without one it still loads and reports "no CUDA driver" instead of failing to load.
const common = ['-O3', '-std=c++17', '-cudart', 'static', '-Xcompiler', '-fPIC', ...gencode];
fs.mkdirSync(out, { recursive: true });
const steps = [
  {
    what: 'addon',
    args: [...common, '-shared', `-I${include}`, '-DNAPI_VERSION=8', '-DNODE_GYP_MODULE_NAME=mmft_cuda', ...addonSources, '-o', addon],
  },
  { what: 'self-test', args: [...common, ...selftestSources, '-o', selftest] },
];
for (const { what, args } of steps) {
  say(`nvcc ${what}: ${nvcc} ${args.map((a) => (path.isAbsolute(a) ? path.relative(root, a) : a)).join(' ')}`);
  const result = spawnSync(nvcc, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    finish(
      false,
      `nvcc failed building the ${what} (${result.error?.message ?? `exit ${result.status}`}, see above): CUDA kernels not built; mmft runs without them`,
    );
  }
}
finish(true, 'CUDA kernels built: build/Release/mmft_cuda.node, build/Release/mmft_cuda_selftest');
