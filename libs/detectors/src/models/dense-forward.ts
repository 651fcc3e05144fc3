import type * as tf from '@tensorflow/tfjs';

interface LayerJson {
  class_name: string;
  config: { name: string; activation?: string };
}

interface DenseLayer {
  inputs: number;
  units: number;
  /** Row-major [inputs x units], as TF.js stores dense kernels. */
  kernel: Float32Array;
  bias: Float32Array;
  relu: boolean;
}

/**
 * Inference for a stack of dense layers in plain JavaScript. For the small autoencoders here a TF.js
 * predict call costs ~160 us whatever the backend does, while the arithmetic of one window is a few
 * thousand multiply-adds (~5 us): an online detector scoring one window per device per step would spend
 * nearly all its time in call overhead. Training stays on TF.js; the weights are copied out once per model.
 */
export class DenseForward {
  private constructor(private readonly layers: DenseLayer[]) {}

  static fromModel(model: tf.LayersModel): DenseForward {
    return new DenseForward(
      model.layers.map((layer) => {
        const config = layer.getConfig() as { activation?: string; useBias?: boolean };
        if (layer.getClassName() !== 'Dense')
          throw new Error(`DenseForward handles Dense layers only, not ${layer.getClassName()}`);
        if (config.activation !== 'relu' && config.activation !== 'linear')
          throw new Error(`DenseForward handles relu and linear activations, not ${config.activation}`);
        const [kernel, bias] = layer.getWeights();
        if (!kernel || !bias) throw new Error('DenseForward needs a kernel and a bias per layer');
        const [inputs, units] = kernel.shape as [number, number];
        return {
          inputs,
          units,
          kernel: kernel.dataSync() as Float32Array,
          bias: bias.dataSync() as Float32Array,
          relu: config.activation === 'relu',
        };
      }),
    );
  }

  /**
   * From the files TF.js saves (topology JSON, weight manifest, weight bytes) without TF.js: each Dense
   * layer's kernel and bias are the next two float32 entries of the manifest, in layer order.
   */
  static fromArtifacts(
    topology: object,
    weightSpecs: ReadonlyArray<{ name: string; shape: number[]; dtype: string }>,
    weights: Uint8Array,
  ): DenseForward {
    const t = topology as {
      config?: { layers?: LayerJson[] } | LayerJson[];
      model_config?: { config?: { layers?: LayerJson[] } };
    };
    const layersJson =
      (Array.isArray(t.config) ? t.config : t.config?.layers) ?? t.model_config?.config?.layers ?? [];
    const aligned = new Uint8Array(weights).buffer;
    let offset = 0;
    const next = (name: string) => {
      const index = weightSpecs.findIndex((w) => w.name === name);
      const spec = weightSpecs[index];
      if (!spec || spec.dtype !== 'float32') throw new Error(`weights have no float32 entry ${name}`);
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const start = weightSpecs
        .slice(0, index)
        .reduce((a, w) => a + 4 * w.shape.reduce((x, y) => x * y, 1), 0);
      offset = Math.max(offset, start + 4 * size);
      return { data: new Float32Array(aligned, start, size), shape: spec.shape };
    };
    const dense = layersJson.filter((l) => l.class_name === 'Dense');
    if (dense.length === 0 || dense.length !== layersJson.length)
      throw new Error('DenseForward handles stacks of Dense layers only');
    const layers = dense.map((l) => {
      const activation = l.config.activation;
      if (activation !== 'relu' && activation !== 'linear')
        throw new Error(`DenseForward handles relu and linear activations, not ${activation}`);
      const kernel = next(`${l.config.name}/kernel`);
      const bias = next(`${l.config.name}/bias`);
      const [inputs, units] = kernel.shape as [number, number];
      return { inputs, units, kernel: kernel.data, bias: bias.data, relu: activation === 'relu' };
    });
    if (offset > weights.byteLength) throw new Error('weights file is shorter than its manifest');
    return new DenseForward(layers);
  }

  /**
   * The output for one input, in a buffer shared by every model and overwritten by the next call: an
   * online detector scores one window per device at a time, where a batch call's per-layer allocations
   * cost more than its arithmetic. Same operations in the same order as `predict`, so the same result.
   */
  predictOne(input: Float32Array): Float32Array {
    let x = input;
    for (let l = 0; l < this.layers.length; l++) {
      const { inputs, units, kernel, bias, relu } = this.layers[l]!;
      const y = scratch(l, units);
      y.set(bias);
      for (let i = 0; i < inputs; i++) {
        const xi = x[i]!;
        if (xi === 0) continue;
        const ko = i * units;
        for (let u = 0; u < units; u++) y[u]! += xi * kernel[ko + u]!;
      }
      if (relu) for (let u = 0; u < units; u++) if (y[u]! < 0) y[u] = 0;
      x = y;
    }
    return x;
  }

  /** Outputs for `rows` inputs laid out row after row in `input`. */
  predict(input: Float32Array, rows: number): Float32Array {
    let x = input;
    for (const layer of this.layers) {
      const { inputs, units, kernel, bias, relu } = layer;
      const y = new Float32Array(rows * units);
      for (let r = 0; r < rows; r++) {
        const xo = r * inputs;
        const yo = r * units;
        y.set(bias, yo);
        for (let i = 0; i < inputs; i++) {
          const xi = x[xo + i]!;
          if (xi === 0) continue;
          const ko = i * units;
          for (let u = 0; u < units; u++) y[yo + u]! += xi * kernel[ko + u]!;
        }
        if (relu) for (let u = 0; u < units; u++) if (y[yo + u]! < 0) y[yo + u] = 0;
      }
      x = y;
    }
    return x;
  }
}

const scratches = new Map<string, Float32Array>();

/** A reusable buffer per layer position and size (one thread: a call consumes it before the next). */
export function scratch(slot: number | string, size: number): Float32Array {
  const key = `${slot}:${size}`;
  let buffer = scratches.get(key);
  if (!buffer) scratches.set(key, (buffer = new Float32Array(size)));
  return buffer;
}
