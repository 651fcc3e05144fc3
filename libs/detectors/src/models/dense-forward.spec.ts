import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DenseForward } from './dense-forward.js';

describe('DenseForward', () => {
  it('computes what TF.js predicts for a relu/linear dense stack', () => {
    const init = (seed: number) => tf.initializers.glorotUniform({ seed });
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [6], units: 5, activation: 'relu', kernelInitializer: init(1) }),
        tf.layers.dense({ units: 2, activation: 'linear', kernelInitializer: init(2) }),
        tf.layers.dense({
          units: 6,
          activation: 'linear',
          kernelInitializer: init(3),
          biasInitializer: 'ones',
        }),
      ],
    });
    const input = Float32Array.from({ length: 4 * 6 }, (_, i) => Math.sin(i) * 2);
    const expected = tf.tidy(() => (model.predict(tf.tensor2d(input, [4, 6])) as tf.Tensor).dataSync());
    const actual = DenseForward.fromModel(model).predict(input, 4);
    expect(actual).toHaveLength(expected.length);
    actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    model.dispose();
  });

  it('refuses layers it cannot compute', () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [2], units: 2, activation: 'sigmoid' })],
    });
    expect(() => DenseForward.fromModel(model)).toThrow(/relu and linear/);
    model.dispose();
  });
});
