import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WindowAutoencoder, type AutoencoderMetadata } from '../models/window-autoencoder.js';

export interface StoredModel {
  deviceId: string;
  metadata: AutoencoderMetadata;
  current: boolean;
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
    await model.save(join(this.deviceDir(deviceId), version));
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

  load(deviceId: string, version: string): Promise<WindowAutoencoder> {
    return WindowAutoencoder.load(join(this.deviceDir(deviceId), version));
  }

  /**
   * The current model of every device, read `concurrency` devices at a time: a restart loads them all up
   * front instead of one by one on each device's first record (file reads overlap in libuv's pool).
   * A device whose current model cannot be read is left out and reported through `onError`.
   */
  async loadAllCurrent(
    concurrency = 64,
    onError: (deviceId: string, error: unknown) => void = () => undefined,
  ): Promise<Map<string, WindowAutoencoder>> {
    const folders = await readdir(this.root, { withFileTypes: true }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      },
    );
    const deviceIds = folders.filter((f) => f.isDirectory()).map((f) => decodeURIComponent(f.name));
    const out = new Map<string, WindowAutoencoder>();
    let next = 0;
    const worker = async () => {
      while (next < deviceIds.length) {
        const deviceId = deviceIds[next++]!;
        try {
          const version = await this.currentVersion(deviceId);
          if (version !== undefined) out.set(deviceId, await this.load(deviceId, version));
        } catch (error) {
          onError(deviceId, error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
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
