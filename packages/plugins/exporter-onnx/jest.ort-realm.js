// Jest runs each test file in its own vm context, so the typed arrays a test makes (and the ones
// onnxruntime-common's Tensor checks with instanceof) are the sandbox's, while the outputs the
// onnxruntime-node addon creates are the main context's: every session.run would then fail with
// "A float32 tensor's data must be type of function Float32Array()". Using the main context's
// constructors in the sandbox makes both sides agree. Tests only; must run before onnxruntime loads.
const vm = require('node:vm');
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
  globalThis[name] = vm.runInThisContext(name);
}
