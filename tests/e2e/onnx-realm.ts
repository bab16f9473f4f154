// Import first in an e2e test that runs onnxruntime-node. Jest runs each test file in its own vm
// context: onnxruntime-common's Tensor checks data with the sandbox's typed-array constructors while
// the addon's outputs are the main context's, so every session.run would fail with "A float32
// tensor's data must be type of function Float32Array()". The sandbox takes the main context's
// constructors (as packages/plugins/exporter-onnx/jest.ort-realm.js does for that package's tests).
import * as vm from 'node:vm';

for (const name of [
  'ArrayBuffer',
  'Float32Array',
  'Float64Array',
  'Int8Array',
  'Int16Array',
  'Int32Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Uint16Array',
  'Uint32Array',
  'BigInt64Array',
  'BigUint64Array',
]) {
  (globalThis as Record<string, unknown>)[name] = vm.runInThisContext(name);
}
