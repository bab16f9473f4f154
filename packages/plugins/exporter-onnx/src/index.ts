// @mmft/exporter-onnx: the ONNX graph builder (opset 17) and its layer emitters.
export * from './onnx';
