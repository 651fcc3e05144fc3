import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WindowAutoencoder, type AutoencoderMetadata } from '../models/window-autoencoder.js';

export interface StoredModel {
  deviceId: string;
  metadata: AutoencoderMetadata;
  current: boolean;
}

/** A device's current model as read at start: its version, deserialised by `open` when first needed. */
export interface StoredCurrent {
  version: string;
  open(): WindowAutoencoder;
}

interface CurrentPointer {
  modelVersion: string;
  activatedAt: string;
}

/**
 * Device models on disk, one folder per version: `<root>/<device>/<version>/` holds the model and its
 * metadata (training range, data hash, metrics, threshold), and `<root>/<device>/current.json` names the
 * version in use. The pointer is written last and atomically, so a reader sees either the old or the new
 * complete model, and older versions stay for rollback and comparison.
 */
export class ModelStore {
  constructor(readonly root: string) {}

  /** Saves the model as a new version and makes it current. */
  async save(deviceId: string, model: WindowAutoencoder): Promise<string> {
    const version = model.metadata.modelVersion;
    const dir = join(this.deviceDir(deviceId), version);
    await model.save(dir);
    await writePack(dir);
    const pointer: CurrentPointer = { modelVersion: version, activatedAt: new Date().toISOString() };
    const path = join(this.deviceDir(deviceId), 'current.json');
    await writeFile(`${path}.tmp`, JSON.stringify(pointer));
    await rename(`${path}.tmp`, path);
    return version;
  }

  /** The version in use for the device, or undefined when it has none. */
  async currentVersion(deviceId: string): Promise<string | undefined> {
    try {
      const pointer = JSON.parse(
        await readFile(join(this.deviceDir(deviceId), 'current.json'), 'utf8'),
      ) as CurrentPointer;
      return pointer.modelVersion;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * `currentVersion` read synchronously: a detector asks once per device it takes over, thousands at a
   * time after a rebalance, where a small file in the page cache reads faster than a thread-pool round trip.
   */
  currentVersionSync(deviceId: string): string | undefined {
    try {
      const text = readFileSync(join(this.deviceDir(deviceId), 'current.json'), 'utf8');
      return (JSON.parse(text) as CurrentPointer).modelVersion;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  load(deviceId: string, version: string): Promise<WindowAutoencoder> {
    return WindowAutoencoder.load(join(this.deviceDir(deviceId), version));
  }

  /**
   * The current model of every device, read up front at start instead of one by one on each device's
   * first record, and deserialised only when the device is first seen (`open`): a start reads the bytes,
   * two small files per device (pointer and pack), synchronously in one pass — each is a few kilobytes in
   * the page cache, where the promise API's four thread-pool round trips per file cost more than the read.
   * Devices sharing an architecture share one parsed topology. A device whose files cannot be read is left
   * out and reported through `onError` (so is one whose bytes do not parse, by `open` throwing).
   * `onProgress` is called every 1,000 devices.
   */
  loadAllCurrent(
    onError: (deviceId: string, error: unknown) => void = () => undefined,
    onProgress: (loaded: number, total: number) => void = () => undefined,
  ): Map<string, StoredCurrent> {
    let folders: string[];
    try {
      folders = readdirSync(this.root, { withFileTypes: true })
        .filter((f) => f.isDirectory())
        .map((f) => f.name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw error;
    }
    const out = new Map<string, StoredCurrent>();
    const topologies = new Map<string, ReturnType<typeof WindowAutoencoder.parseTopology>>();
    for (const [n, folder] of folders.entries()) {
      const deviceId = decodeURIComponent(folder);
      try {
        const dir = join(this.root, folder);
        let pointer: string;
        try {
          pointer = readFileSync(join(dir, 'current.json'), 'utf8');
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw error;
        }
        const version = (JSON.parse(pointer) as CurrentPointer).modelVersion;
        const versionDir = join(dir, version);
        const files = readPack(versionDir) ?? {
          metadataText: readFileSync(join(versionDir, 'metadata.json'), 'utf8'),
          modelText: readFileSync(join(versionDir, 'model.json'), 'utf8'),
          weights: readFileSync(join(versionDir, 'weights.bin')),
        };
        out.set(deviceId, {
          version,
          open: () => {
            let topology = topologies.get(files.modelText);
            if (!topology)
              topologies.set(files.modelText, (topology = WindowAutoencoder.parseTopology(files.modelText)));
            return WindowAutoencoder.fromArtifacts(files.metadataText, topology, files.weights, versionDir);
          },
        });
      } catch (error) {
        onError(deviceId, error);
      }
      if ((n + 1) % 1000 === 0) onProgress(n + 1, folders.length);
    }
    return out;
  }

  /** Every stored version of every device, newest first per device. */
  async list(): Promise<StoredModel[]> {
    const devices = await readdir(this.root).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const out: StoredModel[] = [];
    for (const folder of devices.sort()) {
      const deviceId = decodeURIComponent(folder);
      const dir = join(this.root, folder);
      if (!(await stat(dir)).isDirectory()) continue;
      const current = await this.currentVersion(deviceId);
      const models: StoredModel[] = [];
      for (const version of await readdir(dir)) {
        const metadataPath = join(dir, version, 'metadata.json');
        const metadata = await readFile(metadataPath, 'utf8').then(
          (text) => JSON.parse(text) as AutoencoderMetadata,
          () => undefined,
        );
        if (metadata) models.push({ deviceId, metadata, current: version === current });
      }
      models.sort((a, b) => b.metadata.createdAt.localeCompare(a.metadata.createdAt));
      out.push(...models);
    }
    return out;
  }

  private deviceDir(deviceId: string): string {
    return join(this.root, encodeURIComponent(deviceId));
  }
}

const PACK = 'model.pack';
const PACK_MAGIC = 0x31504d53; // "SMP1"

/**
 * A version's three files in one (`model.pack`: magic, the two JSON lengths, metadata, topology, weights),
 * written beside them when the version is saved, so a start reads two files per device (pointer and pack)
 * instead of four. The separate files stay the reference: a folder without a pack (saved before packs,
 * or copied by hand) loads from them.
 */
async function writePack(dir: string): Promise<void> {
  const [metadata, model, weights] = await Promise.all([
    readFile(join(dir, 'metadata.json')),
    readFile(join(dir, 'model.json')),
    readFile(join(dir, 'weights.bin')),
  ]);
  const header = Buffer.alloc(12);
  header.writeUInt32LE(PACK_MAGIC, 0);
  header.writeUInt32LE(metadata.length, 4);
  header.writeUInt32LE(model.length, 8);
  const path = join(dir, PACK);
  await writeFile(`${path}.tmp`, Buffer.concat([header, metadata, model, weights]));
  await rename(`${path}.tmp`, path);
}

function readPack(dir: string): { metadataText: string; modelText: string; weights: Uint8Array } | undefined {
  let pack: Buffer;
  try {
    pack = readFileSync(join(dir, PACK));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (pack.length < 12 || pack.readUInt32LE(0) !== PACK_MAGIC)
    throw new Error(`${dir}/${PACK} is not a model pack`);
  const metadataEnd = 12 + pack.readUInt32LE(4);
  const modelEnd = metadataEnd + pack.readUInt32LE(8);
  if (modelEnd > pack.length) throw new Error(`${dir}/${PACK} is truncated`);
  return {
    metadataText: pack.toString('utf8', 12, metadataEnd),
    modelText: pack.toString('utf8', metadataEnd, modelEnd),
    weights: pack.subarray(modelEnd),
  };
}
