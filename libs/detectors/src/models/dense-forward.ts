import type * as tf from '@tensorflow/tfjs';

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
