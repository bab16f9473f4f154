// Builds the optional native addon with node-gyp from the machine's g++ and the running Node's
// own headers (<node prefix>/include/node: nothing is downloaded). A failed or skipped build is
// not an error: @mmft/native-kernels then reports itself unavailable and mmft runs without it.
//   node scripts/build-addon.js            build (MMFT_NATIVE_BUILD=0 skips)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const say = (msg) => console.log(`@mmft/native-kernels: ${msg}`);

if (process.env.MMFT_NATIVE_BUILD === '0') {
  say('MMFT_NATIVE_BUILD=0, native addon not built (the pure tfjs kernels are used)');
  process.exit(0);
}

function findNodeGyp() {
  const prefix = path.dirname(path.dirname(process.execPath));
  const candidates = [
    () => require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] }),
    () => process.env.npm_config_node_gyp,
    () => path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    () => path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const candidate of candidates) {
    try {
      const file = candidate();
      if (file && fs.existsSync(file)) return file;
    } catch {
      // not there; try the next place
    }
  }
  return undefined;
}

// node-gyp reads headers from --nodedir when the running Node ships them (official tarballs and
// distro packages do); otherwise it would try to download them, which we do not allow.
function nodeDir() {
  const prefix = path.dirname(path.dirname(process.execPath));
  for (const dir of [prefix, '/usr']) if (fs.existsSync(path.join(dir, 'include', 'node', 'node_api.h'))) return dir;
  return undefined;
}

const gyp = findNodeGyp();
const dir = nodeDir();
if (!gyp || !dir) {
  say(
    `native addon not built (${!gyp ? 'node-gyp not found' : 'Node headers not found under <prefix>/include/node'}); the pure tfjs kernels are used`,
  );
  process.exit(0);
}
const result = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${dir}`, '--jobs=2'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  say('native addon build failed (see above); mmft works without it, using the pure tfjs kernels');
  process.exit(0);
}
say('native addon built: build/Release/mmft_native.node');
