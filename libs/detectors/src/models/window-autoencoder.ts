import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DenseForward, scratch } from './dense-forward.js';
import { seededRandom, shuffleInPlace } from '../seeded-random.util.js';
import { StandardScaler, type ScalerState } from './standard-scaler.js';
import { quantile } from '../stats.util.js';

export interface AutoencoderOptions {
  /** Rows per window: the context the model sees at once. */
  windowLength: number;
  /** Width of the two hidden layers around the bottleneck. */
  hiddenUnits: number;
  /** Width of the bottleneck: small enough that the model cannot learn the identity. */
  latentUnits: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Seeds weight initialisation and the per-epoch shuffle: the same data and seed train the same model. */
  seed: number;
  /** Threshold = quantile(training window scores, thresholdQuantile) x thresholdFactor. */
  thresholdQuantile: number;
  /**
   * Trailing training rows kept out of fitting, whose windows' scores set the threshold instead of the
   * fitted windows' own: scores of data the model has not seen are what it meets online, and in-sample
   * scores are optimistically low. 0 sets the threshold from the fitted windows.
   */
  calibrationRows: number;
  /** The sensitivity knob: lower flags more. The margin above the quantile absorbs in-sample optimism. */
  thresholdFactor: number;
}

export const defaultAutoencoderOptions: AutoencoderOptions = {
  windowLength: 10,
  hiddenUnits: 32,
  latentUnits: 8,
  epochs: 40,
  batchSize: 32,
  learningRate: 1e-3,
  seed: 42,
  thresholdQuantile: 0.99,
  calibrationRows: 0,
  thresholdFactor: 1.5,
};

export interface WindowScore {
  /** Mean squared reconstruction error over the window, in standardised units. */
  score: number;
  /** Mean squared error of each feature over the window, in feature order; they average to `score`. */
  contributions: number[];
}

/**
 * Directions taken out of every row before the model sees it: the ways the metrics move together in
 * normal operation (a pump's load), as unit vectors in rows divided by `scale`. A window moved along
 * them, more load than training had, is then the window the model knows rather than one it extrapolates.
 */
export interface RowProjection {
  scale: number[];
  directions: number[][];
}

export interface TrainingRange {
  fromMs: number;
  toMs: number;
  rows: number;
}

export interface AutoencoderMetadata {
  format: 1;
  modelId: string;
  modelVersion: string;
  createdAt: string;
  features: string[];
  options: AutoencoderOptions;
  trainingRange: TrainingRange;
  /** How rows were transformed before the model saw them; a scorer must apply the same to use the model. */
  preprocessing?: Record<string, number>;
  /** Relations taken out of each row before scaling (absent: rows are scaled as they are). */
  projection?: RowProjection;
  /** sha256 of the training rows: tells whether two models saw the same data. */
  dataHash: string;
  threshold: { value: number; quantile: number; factor: number; rule: string };
  scaler: ScalerState;
  metrics: {
    finalLoss: number;
    trainScoreMean: number;
    /** The quantile the threshold is built on: of held-out windows when calibrationRows > 0. */
    trainScoreQuantile: number;
    trainWindows: number;
    calibrationWindows?: number;
  };
}

export interface TrainInput {
  modelId: string;
  features: string[];
  rows: readonly (readonly number[])[];
  trainingRange: TrainingRange;
  preprocessing?: Record<string, number>;
  projection?: RowProjection;
  options?: Partial<AutoencoderOptions>;
}

const THRESHOLD_RULE = 'quantile(train window scores, q) * factor';
const CALIBRATED_RULE = 'quantile(held-out window scores, q) * factor';

/**
 * A dense autoencoder over sliding windows of a multivariate series. Each window (windowLength x features,
 * standardised with a scaler fitted on the training rows) is flattened, squeezed through a bottleneck and
 * reconstructed; windows unlike the training data reconstruct badly. The score of a window is its mean
 * squared reconstruction error, and each feature's share of it says which metric looks wrong.
 */
export class WindowAutoencoder {
  /**
   * @param model the TF.js model, kept only by a freshly trained instance (to save it); a loaded one scores
   *   with the plain-JS forward pass alone, which loads in well under a millisecond instead of building a
   *   TF.js graph per device.
   */
  private constructor(
    private readonly model: tf.LayersModel | undefined,
    private readonly forward: DenseForward,
    private readonly scaler: StandardScaler,
    readonly metadata: AutoencoderMetadata,
  ) {}

  get threshold(): number {
    return this.metadata.threshold.value;
  }

  get windowLength(): number {
    return this.metadata.options.windowLength;
  }

  get features(): readonly string[] {
    return this.metadata.features;
  }

  static async train(input: TrainInput): Promise<WindowAutoencoder> {
    const options = { ...defaultAutoencoderOptions, ...input.options };
    const { windowLength } = options;
    const featureCount = input.features.length;
    const rows = input.projection ? input.rows.map((r) => project(r, input.projection!)) : input.rows;
    const fitRows = rows.slice(0, rows.length - options.calibrationRows);
    if (fitRows.length < windowLength + 1)
      throw new Error(
        `need more than ${windowLength} training rows besides ${options.calibrationRows} held out, got ${input.rows.length}`,
      );
    const scaler = StandardScaler.fit(fitRows);
    const scaled = rows.map((r) => scaler.transform(r));
    const all = slidingWindows(scaled, windowLength);
    // Window k ends at row k + windowLength - 1: the last calibrationRows windows end in held-out rows.
    const windows = all.slice(0, all.length - options.calibrationRows);
    const calibration = all.slice(all.length - options.calibrationRows);
    const width = windowLength * featureCount;

    const model = buildModel(width, options);
    const random = seededRandom(options.seed);
    const order = windows.map((_, i) => i);
    let finalLoss = Number.NaN;
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      shuffleInPlace(order, random);
      let lossSum = 0;
      let batches = 0;
      for (let start = 0; start < order.length; start += options.batchSize) {
        const idx = order.slice(start, start + options.batchSize);
        const x = tf.tensor2d(flatten(idx.map((i) => windows[i]!)), [idx.length, width]);
        const loss = await model.trainOnBatch(x, x);
        x.dispose();
        lossSum += Array.isArray(loss) ? loss[0]! : loss;
        batches++;
      }
      finalLoss = lossSum / batches;
    }

    const forward = DenseForward.fromModel(model);
    const trainScores = scoreBatch(forward, windows, featureCount).map((s) => s.score);
    const calibrationScores = scoreBatch(forward, calibration, featureCount).map((s) => s.score);
    const q = quantile(
      calibrationScores.length > 0 ? calibrationScores : trainScores,
      options.thresholdQuantile,
    );
    const metadata: AutoencoderMetadata = {
      format: 1,
      modelId: input.modelId,
      modelVersion: '',
      createdAt: new Date().toISOString(),
      features: [...input.features],
      options,
      trainingRange: input.trainingRange,
      ...(input.preprocessing && { preprocessing: input.preprocessing }),
      ...(input.projection && { projection: input.projection }),
      dataHash: hashRows(input.rows),
      threshold: {
        value: q * options.thresholdFactor,
        quantile: options.thresholdQuantile,
        factor: options.thresholdFactor,
        rule: calibration.length > 0 ? CALIBRATED_RULE : THRESHOLD_RULE,
      },
      scaler: scaler.state,
      metrics: {
        finalLoss,
        trainScoreMean: trainScores.reduce((a, b) => a + b, 0) / trainScores.length,
        trainScoreQuantile: q,
        trainWindows: windows.length,
        ...(calibration.length > 0 && { calibrationWindows: calibration.length }),
      },
    };
    // The version names the exact data and settings, so a model retrained on the same data keeps its version.
    metadata.modelVersion = createHash('sha256')
      .update(metadata.dataHash)
      .update(JSON.stringify(options))
      .update(JSON.stringify(input.preprocessing ?? {}))
      .update(input.projection ? JSON.stringify(input.projection) : '')
      .digest('hex')
      .slice(0, 12);
    return new WindowAutoencoder(model, DenseForward.fromModel(model), scaler, metadata);
  }

  /** Scores one window of raw (unscaled) rows, oldest first. */
  scoreWindow(rows: readonly (readonly number[])[]): WindowScore {
    // One window per device per step online: scaled straight into a shared input buffer and run through
    // the allocation-free forward pass; the arithmetic is scoreWindows' (same result, see its spec).
    const windowLength = this.windowLength;
    if (rows.length !== windowLength)
      throw new Error(`window has ${rows.length} rows, the model expects ${windowLength}`);
    const featureCount = this.features.length;
    const { mean, std } = this.scaler.state;
    const projection = this.metadata.projection;
    const input = scratch('input', windowLength * featureCount);
    for (let t = 0; t < windowLength; t++) {
      const row = projection ? project(rows[t]!, projection) : rows[t]!;
      for (let f = 0; f < featureCount; f++) input[t * featureCount + f] = (row[f]! - mean[f]!) / std[f]!;
    }
    const output = this.forward.predictOne(input);
    const contributions = new Array<number>(featureCount).fill(0);
    for (let t = 0; t < windowLength; t++) {
      for (let f = 0; f < featureCount; f++) {
        const i = t * featureCount + f;
        contributions[f]! += (output[i]! - input[i]!) ** 2 / windowLength;
      }
    }
    return { score: contributions.reduce((a, b) => a + b, 0) / featureCount, contributions };
  }

  /** Scores many windows of raw rows in one forward pass. */
  scoreWindows(windows: readonly (readonly (readonly number[])[])[]): WindowScore[] {
    const scaled = windows.map((w) => {
      if (w.length !== this.windowLength)
        throw new Error(`window has ${w.length} rows, the model expects ${this.windowLength}`);
      const projection = this.metadata.projection;
      return w.map((r) => this.scaler.transform(projection ? project(r, projection) : r));
    });
    return scoreBatch(this.forward, scaled, this.features.length);
  }

  /**
   * Scores every window of a series that ends at or after `fromIndex`: the score of row i is that of the
   * window ending at row i, which is what an online detector sees when row i arrives.
   */
  scoreSeries(rows: readonly (readonly number[])[], fromIndex: number): WindowScore[] {
    const start = Math.max(fromIndex, this.windowLength - 1);
    const windows: (readonly (readonly number[])[])[] = [];
    for (let end = start; end < rows.length; end++)
      windows.push(rows.slice(end - this.windowLength + 1, end + 1));
    return this.scoreWindows(windows);
  }

  /** Writes model.json (topology and weight manifest), weights.bin and metadata.json into `dir`. */
  async save(dir: string): Promise<void> {
    if (!this.model) throw new Error('only a freshly trained model is saved; this one was loaded');
    await mkdir(dir, { recursive: true });
    await this.model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weightData = artifacts.weightData;
        if (!weightData) throw new Error('model has no weights to save');
        const buffers = Array.isArray(weightData) ? weightData : [weightData];
        await writeAtomic(join(dir, 'weights.bin'), Buffer.concat(buffers.map((b) => Buffer.from(b))));
        await writeAtomic(
          join(dir, 'model.json'),
          JSON.stringify({ modelTopology: artifacts.modelTopology, weightSpecs: artifacts.weightSpecs }),
        );
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    // Metadata last: a folder with metadata.json holds a complete model.
    await writeAtomic(join(dir, 'metadata.json'), JSON.stringify(this.metadata, null, 2));
  }

  static async load(dir: string): Promise<WindowAutoencoder> {
    const [metadataText, modelText, weights] = await Promise.all([
      readFile(join(dir, 'metadata.json'), 'utf8'),
      readFile(join(dir, 'model.json'), 'utf8'),
      readFile(join(dir, 'weights.bin')),
    ]);
    return WindowAutoencoder.fromArtifacts(
      metadataText,
      WindowAutoencoder.parseTopology(modelText),
      weights,
      dir,
    );
  }

  /** model.json's topology and weight manifest; models of one architecture can share the parsed value. */
  static parseTopology(modelText: string): {
    modelTopology: object;
    weightSpecs: tf.io.WeightsManifestEntry[];
  } {
    return JSON.parse(modelText) as { modelTopology: object; weightSpecs: tf.io.WeightsManifestEntry[] };
  }

  /** A model from its saved files' contents (`dir` only names it in errors): what `load` and bulk loads share. */
  static fromArtifacts(
    metadataText: string,
    topology: { modelTopology: object; weightSpecs: tf.io.WeightsManifestEntry[] },
    weights: Uint8Array,
    dir: string,
  ): WindowAutoencoder {
    const metadata = JSON.parse(metadataText) as AutoencoderMetadata;
    if (metadata.format !== 1)
      throw new Error(`unsupported model format ${String(metadata.format)} in ${dir}`);
    const forward = DenseForward.fromArtifacts(topology.modelTopology, topology.weightSpecs, weights);
    return new WindowAutoencoder(undefined, forward, StandardScaler.from(metadata.scaler), metadata);
  }

  dispose(): void {
    this.model?.dispose();
  }
}

function buildModel(width: number, options: AutoencoderOptions): tf.LayersModel {
  const init = (offset: number) => tf.initializers.glorotUniform({ seed: options.seed + offset });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [width],
        units: options.hiddenUnits,
        activation: 'relu',
        kernelInitializer: init(1),
      }),
      tf.layers.dense({ units: options.latentUnits, activation: 'linear', kernelInitializer: init(2) }),
      tf.layers.dense({ units: options.hiddenUnits, activation: 'relu', kernelInitializer: init(3) }),
      tf.layers.dense({ units: width, activation: 'linear', kernelInitializer: init(4) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(options.learningRate), loss: 'meanSquaredError' });
  return model;
}

function scoreBatch(
  forward: DenseForward,
  windows: readonly (readonly (readonly number[])[])[],
  featureCount: number,
): WindowScore[] {
  if (windows.length === 0) return [];
  const windowLength = windows[0]!.length;
  const width = windowLength * featureCount;
  const input = flatten(windows);
  const output = forward.predict(input, windows.length);
  return windows.map((_, w) => {
    const contributions = new Array<number>(featureCount).fill(0);
    const base = w * width;
    for (let t = 0; t < windowLength; t++) {
      for (let f = 0; f < featureCount; f++) {
        const i = base + t * featureCount + f;
        contributions[f]! += (output[i]! - input[i]!) ** 2 / windowLength;
      }
    }
    return { score: contributions.reduce((a, b) => a + b, 0) / featureCount, contributions };
  });
}

/** A row with its components along the projection's directions (in units of its scale) taken out. */
function project(row: readonly number[], { scale, directions }: RowProjection): number[] {
  const z = row.map((v, f) => v / scale[f]!);
  for (const u of directions) {
    const along = z.reduce((s, x, f) => s + x * u[f]!, 0);
    for (let f = 0; f < z.length; f++) z[f]! -= along * u[f]!;
  }
  return z.map((x, f) => x * scale[f]!);
}

function slidingWindows(rows: number[][], windowLength: number): number[][][] {
  const windows: number[][][] = [];
  for (let end = windowLength; end <= rows.length; end++) windows.push(rows.slice(end - windowLength, end));
  return windows;
}

function flatten(windows: readonly (readonly (readonly number[])[])[]): Float32Array {
  const rows = windows[0]?.length ?? 0;
  const features = windows[0]?.[0]?.length ?? 0;
  const out = new Float32Array(windows.length * rows * features);
  let i = 0;
  for (const w of windows) for (const r of w) for (const v of r) out[i++] = v;
  return out;
}

function hashRows(rows: readonly (readonly number[])[]): string {
  const hash = createHash('sha256');
  for (const row of rows) hash.update(Float64Array.from(row));
  return hash.digest('hex');
}

async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  await writeFile(`${path}.tmp`, data);
  await rename(`${path}.tmp`, path);
}
