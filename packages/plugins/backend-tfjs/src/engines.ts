// The table of engines the tfjs backend knows: which npm package provides each, the tfjs backend
// name it registers and how to load it. Loading is the only side effect and happens in select().
import * as path from 'node:path';
import type { EngineName } from './config';

/** Where an engine's package was found (see probe.ts). */
export interface ResolvedPackage {
  /** Package folder (holds package.json). */
  readonly root: string;
  /** The file `require(packageName)` loads. */
  readonly entry: string;
  readonly version: string;
}

export interface EngineSpec {
  readonly name: EngineName;
  /** npm package that registers the engine with tfjs-core when required. */
  readonly packageName: string;
  /** Name the engine registers with tfjs-core (tf.setBackend argument). */
  readonly tfjsBackend: string;
  readonly gpu: boolean;
  /** True when the package is a dependency of this plugin (always installed). */
  readonly bundled: boolean;
  /** Require the package and do any set-up it needs before tf.setBackend. */
  load(pkg: ResolvedPackage): Promise<void>;
}

// tfjs-node(-gpu) register the "tensorflow" backend as a side effect of being required.
const requireForSideEffect = async (pkg: ResolvedPackage): Promise<void> => {
  require(pkg.entry);
};

/** Engines in the default preference order (fastest first). */
export const ENGINES: Readonly<Record<EngineName, EngineSpec>> = {
  'tfjs-node-gpu': {
    name: 'tfjs-node-gpu',
    packageName: '@tensorflow/tfjs-node-gpu',
    tfjsBackend: 'tensorflow',
    gpu: true,
    bundled: false,
    load: requireForSideEffect,
  },
  'tfjs-node': {
    name: 'tfjs-node',
    packageName: '@tensorflow/tfjs-node',
    tfjsBackend: 'tensorflow',
    gpu: false,
    bundled: false,
    load: requireForSideEffect,
  },
  wasm: {
    name: 'wasm',
    packageName: '@tensorflow/tfjs-backend-wasm',
    tfjsBackend: 'wasm',
    gpu: false,
    bundled: true,
    async load(pkg) {
      const wasm = require(pkg.entry) as typeof import('@tensorflow/tfjs-backend-wasm');
      // The .wasm binaries ship in the package's dist/; naming that folder (trailing separator:
      // setWasmPaths treats the string as a prefix) makes the loader read them from disk.
      wasm.setWasmPaths(path.join(pkg.root, 'dist') + path.sep);
    },
  },
  cpu: {
    name: 'cpu',
    packageName: '@tensorflow/tfjs-backend-cpu',
    tfjsBackend: 'cpu',
    gpu: false,
    bundled: true,
    load: requireForSideEffect,
  },
};
