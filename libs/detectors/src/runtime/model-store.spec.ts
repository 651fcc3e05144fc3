import { mkdtempSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelStore } from './model-store.js';
import { WindowAutoencoder } from '../models/window-autoencoder.js';

const train = (offset: number) =>
  WindowAutoencoder.train({
    modelId: 'window-ae:pump/1',
    features: ['a', 'b'],
    rows: Array.from({ length: 60 }, (_, i) => [Math.sin(i / 5) + offset, Math.cos(i / 5)]),
    trainingRange: { fromMs: 1000 * offset, toMs: 1000 * offset + 59_000, rows: 60 },
    options: { windowLength: 5, epochs: 2 },
  });

describe('ModelStore', () => {
  it('keeps every version, points at the newest saved and loads what it points at', async () => {
    const store = new ModelStore(join(mkdtempSync(join(tmpdir(), 'model-store-')), 'models'));
    expect(await store.list()).toEqual([]);
    expect(await store.currentVersion('pump/1')).toBeUndefined();
    const first = await train(0);
    const second = await train(1);
    expect(second.metadata.modelVersion).not.toBe(first.metadata.modelVersion);
    await store.save('pump/1', first);
    expect(await store.save('pump/1', second)).toBe(second.metadata.modelVersion);

    expect(await store.currentVersion('pump/1')).toBe(second.metadata.modelVersion);
    const listed = await store.list();
    expect(listed.map((m) => [m.deviceId, m.metadata.modelVersion, m.current])).toEqual(
      expect.arrayContaining([
        ['pump/1', first.metadata.modelVersion, false],
        ['pump/1', second.metadata.modelVersion, true],
      ]),
    );
    expect(listed[0]!.metadata.trainingRange.rows).toBe(60);

    const loaded = await store.load('pump/1', first.metadata.modelVersion);
    const window = Array.from({ length: 5 }, (_, i) => [i / 5, 1 - i / 5]);
    expect(loaded.scoreWindow(window).score).toBeCloseTo(first.scoreWindow(window).score, 6);
    // The one-window path (shared buffers, no batch) computes exactly what the batch path does, and a
    // second model scored in between does not leak into the next result through those buffers.
    const alone = loaded.scoreWindow(window);
    const other = second.scoreWindow(window.map((r) => r.map((v) => v * 3)));
    expect(loaded.scoreWindows([window])[0]).toEqual(alone);
    expect(second.scoreWindows([window.map((r) => r.map((v) => v * 3))])[0]).toEqual(other);
    expect(loaded.scoreWindow(window)).toEqual(alone);
    for (const m of [first, second, loaded]) m.dispose();
  });

  it('loads the current model of every device at once, leaving out one it cannot read', async () => {
    const store = new ModelStore(join(mkdtempSync(join(tmpdir(), 'model-store-')), 'models'));
    expect(store.loadAllCurrent().size).toBe(0);
    const a = await train(0);
    const b = await train(1);
    await store.save('pump/1', a);
    await store.save('pump/2', a);
    await store.save('pump/2', b);
    await writeFile(join(store.root, 'broken'), 'not a folder');
    await mkdir(join(store.root, 'pump%2F3'));
    await writeFile(join(store.root, 'pump%2F3', 'current.json'), '{"modelVersion":"missing"}');
    // pump/1 was saved before packs existed (its separate files are the reference); pump/4's pack is cut short.
    await rm(join(store.root, 'pump%2F1', a.metadata.modelVersion, 'model.pack'));
    await store.save('pump/4', a);
    const pack = join(store.root, 'pump%2F4', a.metadata.modelVersion, 'model.pack');
    await writeFile(pack, (await readFile(pack)).subarray(0, 40));
    const failed: string[] = [];
    const all = store.loadAllCurrent((deviceId) => failed.push(deviceId));
    expect([...all.keys()].sort()).toEqual(['pump/1', 'pump/2']);
    expect(all.get('pump/2')!.version).toBe(b.metadata.modelVersion);
    const window = Array.from({ length: 5 }, (_, i) => [i / 5, 1 - i / 5]);
    const opened = [all.get('pump/1')!.open(), all.get('pump/2')!.open()];
    expect(opened[1]!.metadata.modelVersion).toBe(b.metadata.modelVersion);
    expect(opened[0]!.scoreWindow(window)).toEqual(a.scoreWindow(window));
    expect(opened[1]!.scoreWindow(window)).toEqual(b.scoreWindow(window));
    expect(failed.sort()).toEqual(['pump/3', 'pump/4']);
    for (const m of [a, b, ...opened]) m.dispose();
  });
});
