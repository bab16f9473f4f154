// The ONNX graph builder and its layer emitters.
export * from './graph';
export * from './layers';
