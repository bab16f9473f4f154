// A small ONNX graph builder over onnx-proto's generated ModelProto (onnx.proto3 of onnx v1.10.2):
// values are named strings, nodes are appended in topological order as the emitters run, and
// writeOnnxModel (write-model.ts) encodes the ModelProto with protobufjs. Field meanings follow
// onnx/onnx's onnx/onnx.proto3 (TensorProto.raw_data little-endian; external_data location/offset/length;
// data_location EXTERNAL = 1).
import { onnx } from 'onnx-proto';
import { MmftError } from '@mmft/core';
import {
  attributeProto,
  tensorBytes,
  tensorProto,
  valueInfoProto,
  ONNX_DATA_TYPE,
  type AttrValue,
  type ConstTensor,
  type Dim,
  type OnnxDType,
} from './proto';

export { ONNX_DATA_TYPE, tensorBytes, type AttrValue, type ConstTensor, type Dim, type OnnxDType } from './proto';
export { DEFAULT_EXTERNAL_DATA_THRESHOLD, writeOnnxModel, type WriteOptions } from './write-model';

interface NodeRecord {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

interface ValueInfo {
  name: string;
  dtype: OnnxDType;
  dims: Dim[];
}

/**
 * An ONNX graph under construction. Value names are plain strings; `''` as an input means
 * "optional input absent" (the ONNX convention).
 *
 * @example
 * const g = new OnnxGraph('tiny');
 * const x = g.input('x', 'float32', ['batch_size', 2]);
 * const w = g.initializer('w', { dtype: 'float32', dims: [2, 1], data: new Float32Array([1, 2]) });
 * g.output(g.op1('MatMul', [x, w]), 'float32', ['batch_size', 1]);
 */
export class OnnxGraph {
  readonly name: string;
  private readonly nodes: NodeRecord[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly initializers = new Map<string, ConstTensor>();
  private readonly used = new Set<string>();
  private readonly producer = new Map<string, NodeRecord>();
  private counter = 0;

  constructor(name: string) {
    this.name = name;
  }

  /** Declares a graph input; returns its name. */
  input(name: string, dtype: OnnxDType, dims: Dim[]): string {
    this.claim(name, 'input');
    this.inputs.push({ name, dtype, dims: [...dims] });
    return name;
  }

  /** Marks an existing value as a graph output under its own name (see `rename` to give it another). */
  output(name: string, dtype: OnnxDType, dims: Dim[]): void {
    if (!this.used.has(name)) {
      throw new MmftError('E_CONFIG', `graph ${this.name}: output ${name} is not a value of the graph`, {
        hint: 'pass a value returned by input/initializer/op, or rename() one to the output name first',
      });
    }
    if (this.outputs.some((o) => o.name === name)) throw new MmftError('E_CONFIG', `graph ${this.name}: ${name} is already an output`);
    this.outputs.push({ name, dtype, dims: [...dims] });
  }

  /** Adds a weight under its given name (the Hugging Face state-dict name); returns the name. */
  initializer(name: string, t: ConstTensor): string {
    tensorBytes(t, `initializer ${name}`);
    this.claim(name, 'initializer');
    this.initializers.set(name, t);
    return name;
  }

  /** A small constant as an initializer with a fresh unique name. */
  constant(t: ConstTensor, hint = 'const'): string {
    tensorBytes(t, `constant ${hint}`);
    const name = this.fresh(`/${hint}`);
    this.initializers.set(name, t);
    return name;
  }

  /** Appends a node; returns its output names (fresh unless the node is named and outputs are asked by count). */
  op(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    opts: { domain?: string; outputs?: number; name?: string } = {},
  ): string[] {
    for (const input of inputs) {
      if (input !== '' && !this.used.has(input)) {
        throw new MmftError(
          'E_CONFIG',
          `graph ${this.name}: ${opType} reads ${input}, which no earlier input, initializer or node defines`,
        );
      }
    }
    const name = opts.name ? this.unique(opts.name) : this.fresh(`/${opType}`);
    const count = opts.outputs ?? 1;
    const outputs = Array.from({ length: count }, (_, i) => this.fresh(`${name}_output_${i}`));
    const node: NodeRecord = { opType, domain: opts.domain ?? '', name, inputs: [...inputs], outputs, attrs };
    this.nodes.push(node);
    for (const o of outputs) this.producer.set(o, node);
    return outputs;
  }

  /** Appends a node with one output and returns that output's name. */
  op1(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, opts: { domain?: string; name?: string } = {}): string {
    return this.op(opType, inputs, attrs, { ...opts, outputs: 1 })[0]!;
  }

  /**
   * Makes `value` carry the name `to` (a required output name such as "text_embeds"): the node that
   * produces it is renamed in place; a graph input or initializer gets an Identity node instead.
   */
  rename(value: string, to: string): void {
    if (value === to) return;
    const node = this.producer.get(value);
    if (!node) {
      this.claimNew(to);
      this.nodes.push({ opType: 'Identity', domain: '', name: this.fresh('/Identity'), inputs: [value], outputs: [to], attrs: {} });
      this.producer.set(to, this.nodes[this.nodes.length - 1]!);
      return;
    }
    this.claimNew(to);
    node.outputs = node.outputs.map((o) => (o === value ? to : o));
    for (const n of this.nodes) n.inputs = n.inputs.map((i) => (i === value ? to : i));
    for (const o of this.outputs) if (o.name === value) o.name = to;
    this.producer.delete(value);
    this.producer.set(to, node);
    this.used.delete(value);
  }

  /** Whether a value of this name exists. */
  has(name: string): boolean {
    return this.used.has(name);
  }

  /** Counts, for logs and tests. */
  get stats(): { nodes: number; initializers: number; inputs: number; outputs: number } {
    return { nodes: this.nodes.length, initializers: this.initializers.size, inputs: this.inputs.length, outputs: this.outputs.length };
  }

  /** The protobuf GraphProto; initializers listed in `external` are left to the caller (see writeOnnxModel). */
  toProto(external: ReadonlyMap<string, { offset: number; length: number; location: string }> = new Map()): onnx.IGraphProto {
    if (this.outputs.length === 0) throw new MmftError('E_CONFIG', `graph ${this.name} has no outputs`);
    const valueInfo = (v: ValueInfo): onnx.IValueInfoProto => valueInfoProto(v.name, v.dtype, v.dims);
    const initializer: onnx.ITensorProto[] = [];
    for (const [name, t] of this.initializers) {
      const ext = external.get(name);
      if (ext) {
        initializer.push({
          name,
          dims: t.dims,
          dataType: ONNX_DATA_TYPE[t.dtype],
          dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [
            { key: 'location', value: ext.location },
            { key: 'offset', value: String(ext.offset) },
            { key: 'length', value: String(ext.length) },
          ],
        });
      } else {
        initializer.push(tensorProto(name, t));
      }
    }
    return {
      name: this.name,
      node: this.nodes.map((n) => ({
        name: n.name,
        opType: n.opType,
        domain: n.domain,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs).map(([k, v]) => attributeProto(k, v)),
      })),
      input: this.inputs.map(valueInfo),
      output: this.outputs.map(valueInfo),
      initializer,
    };
  }

  /** Initializers in insertion order (for writing external data). */
  initializerEntries(): Array<[string, ConstTensor]> {
    return [...this.initializers];
  }

  /** Operator domains the nodes use besides ai.onnx (e.g. com.microsoft). */
  domains(): string[] {
    return [...new Set(this.nodes.map((n) => n.domain).filter((d) => d !== '' && d !== 'ai.onnx'))];
  }

  private claim(name: string, what: string): void {
    if (!name) throw new MmftError('E_CONFIG', `graph ${this.name}: ${what} needs a non-empty name`);
    this.claimNew(name);
  }

  private claimNew(name: string): void {
    if (this.used.has(name)) {
      throw new MmftError('E_CONFIG', `graph ${this.name}: the value name ${name} is already taken`, {
        hint: 'value names are unique in an ONNX graph (SSA form)',
      });
    }
    this.used.add(name);
  }

  private fresh(base: string): string {
    let name = base;
    while (this.used.has(name)) name = `${base}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  private unique(base: string): string {
    // Node names share no namespace with values, but keeping them distinct keeps graphs readable.
    let name = base;
    while (this.nodes.some((n) => n.name === name)) name = `${base}_${++this.counter}`;
    return name;
  }
}
