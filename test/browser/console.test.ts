import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  apiLogin,
  launchChromium,
  startConsolePlatform,
  until,
  type ConsolePlatform,
} from './support/console-platform.js';

const SCREENSHOTS = join(import.meta.dirname, 'screenshots');
const VIEWER = { username: 'shift-viewer', password: 'viewer-passphrase-1' };
const DEVICES = 12;
// The detectors resample every 250 ms and train on 120 rows (30 s of the simulator's 4 Hz plant); the leak
// starts after training, so the anomaly it causes arrives while the device page is already open.
const FAULTY = 'pump-0001';
const FAULT_AFTER_S = 60;

describe('operator console in Chromium against the real platform', () => {
  let plant: ConsolePlatform;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  let livePage: Page;
  let api: Awaited<ReturnType<typeof apiLogin>>;

  const shot = (p: Page, name: string) =>
    p.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });

  const signIn = async (p: Page, user: { username: string; password: string }) => {
    await p.goto(`${plant.baseUrl}/sign-in`);
    await p.getByTestId('username').fill(user.username);
    await p.getByTestId('password').fill(user.password);
    await p.getByTestId('sign-in').click();
    await p.getByTestId('user-menu').waitFor();
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    plant = await startConsolePlatform({
      name: 'console',
      devices: DEVICES,
      intervalMs: 250,
      faults: [`${FAULTY}:leak@+${FAULT_AFTER_S}s,severity=3`],
      env: { DETECTORS_STEP_MS: '250', DETECTORS_TRAIN_ROWS: '120', DETECTORS_MODEL_CHECK_MS: '0' },
    });
    api = await apiLogin(plant.baseUrl, ADMIN);
    const created = await api.call('POST', '/api/users', { ...VIEWER, role: 'viewer' });
    expect(created.status, await created.text()).toBe(201);
    browser = await launchChromium();
    admin = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await admin.newPage();
    await signIn(page, ADMIN);
    // The device page of the pump about to leak, live, opened before the fault starts.
    livePage = await admin.newPage();
    await livePage.goto(`${plant.baseUrl}/devices/${FAULTY}?from=now-5m&to=now&live=1`);
    await livePage.getByTestId('live-state').filter({ hasText: 'connected' }).waitFor({ timeout: 30_000 });
    await livePage.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
  });

  afterAll(async () => {
    await browser?.close();
    await plant?.stop();
  });

  it('signs in, keeps the session across a reload by the refresh cookie alone, signs out', async () => {
    const p = await admin.newPage();
    await p.goto(`${plant.baseUrl}/fleet`);
    await p.getByTestId('user-menu').waitFor();
    expect(await p.getByTestId('user-menu').innerText()).toContain(ADMIN.username);
    const stored = await p.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    expect(stored).not.toMatch(/token|eyJ/i);
    const cookies = await admin.cookies();
    expect(cookies.find((c) => c.name === 'sentio_refresh')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
    // Role-shaped navigation: an admin sees every page.
    for (const nav of [
      'fleet',
      'explore',
      'logs',
      'traces',
      'anomalies',
      'alerts',
      'system',
      'settings',
      'admin',
    ])
      await expect(p.getByTestId(`nav-${nav}`).count()).resolves.toBe(1);

    const other = await browser.newContext();
    const q = await other.newPage();
    await q.goto(`${plant.baseUrl}/fleet`);
    await q.waitForURL(/\/sign-in/);
    await shot(q, '01-sign-in');
    await q.getByTestId('password').fill('wrong password');
    await q.getByTestId('username').fill(ADMIN.username);
    await q.getByTestId('sign-in').click();
    await expect(q.getByTestId('sign-in-error').innerText()).resolves.toMatch(/invalid/i);
    await signIn(q, ADMIN);
    await q.getByTestId('user-menu').click();
    await q.getByTestId('sign-out').click();
    await q.waitForURL(/\/sign-in/);
    await q.goto(`${plant.baseUrl}/fleet`);
    await q.waitForURL(/\/sign-in/);
    await other.close();
    await p.close();
  });

  it("lists the simulator's devices in the fleet, as many as the API has", async () => {
    const apiDevices = await until('every simulated device in the inventory', async () => {
      const { items } = await api.get<{ items: Array<{ deviceId: string }> }>('/api/devices?limit=1000');
      return items.length === DEVICES && items;
    });
    await page.goto(`${plant.baseUrl}/fleet`);
    await page.getByTestId('fleet-row').first().waitFor();
    await until(
      'fleet count',
      async () => (await page.getByTestId('fleet-count').innerText()) === String(apiDevices.length),
    );
    const shown = await page.getByTestId('fleet-row').locator('a').allInnerTexts();
    expect(shown.sort()).toEqual(apiDevices.map((d) => d.deviceId).sort());
    expect(await page.getByTestId('fleet-summary').innerText()).toMatch(/online/);
    await shot(page, '02-fleet');
    // Filters live in the URL: a reload keeps them.
    await page.getByTestId('fleet-search').fill('pump');
    await page.waitForURL(/q=pump/);
    await page.reload();
    await page.getByTestId('fleet-row').first().waitFor();
    const pumps = apiDevices.filter((d) => d.deviceId.includes('pump')).length;
    await until(
      'filtered count',
      async () => (await page.getByTestId('fleet-count').innerText()) === String(pumps),
    );
  });

  it("draws a device's metric with the API's numbers for the same range", async () => {
    const device = 'pump-0002';
    const seriesUrl = (from: number, to: number, step: string) =>
      `/api/metrics/series?device=${device}&metric=flow_rate&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&step=${step}`;
    // A closed range that ends just before the device's newest queryable sample: its records share one
    // partition and the sink writes a partition's offsets in order, so everything before that sample is
    // stored. (Two reads that agree are no proof: ingest may simply not have flushed in between.)
    const { from, to } = await until(
      'a fully ingested range with three samples or more',
      async () => {
        const end = Date.now();
        const recent = await api.get<{ points: Array<{ ts: string }> }>(
          seriesUrl(end - 5 * 60_000, end, '1'),
        );
        const newest = recent.points.at(-1);
        if (recent.points.length < 4 || !newest) return false;
        const closed = Date.parse(newest.ts) - 1;
        return { from: closed - 5 * 60_000, to: closed };
      },
      120_000,
    );
    await page.goto(`${plant.baseUrl}/devices/${device}?from=${from}&to=${to}`);
    const chart = page.locator('[data-testid="chart-flow_rate"]');
    await chart.waitFor();
    // Open the chart's data table (the same points the chart draws), clicking again if a re-render ate the click.
    await until(
      'the data table',
      async () => {
        if ((await page.getByTestId('table-flow_rate').locator('tbody tr').count()) > 0) return true;
        const open = chart.getByRole('button', { name: 'Data table' });
        if (await open.count()) await open.click();
        return false;
      },
      30_000,
    ).catch(async (error: unknown) => {
      await shot(page, '03-device-failed');
      throw error;
    });
    const rows = await page
      .getByTestId('table-flow_rate')
      .locator('tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim())),
      );
    const series = await api.get<{ points: Array<{ ts: string; value: number }> }>(
      seriesUrl(from, to, (await chart.getAttribute('data-step'))!),
    );
    expect(series.points.length).toBeGreaterThanOrEqual(3);
    // Same buckets, same values; an average may differ in its last bit between two reads (ClickHouse sums a
    // bucket's rows in whatever order its threads finish), so values agree to 12 significant digits.
    expect(rows.map(([ts]) => ts)).toEqual(series.points.map((p) => p.ts));
    rows.forEach(([, value], i) => {
      const expected = series.points[i]!.value;
      expect(Math.abs(Number(value) - expected)).toBeLessThanOrEqual(Math.abs(expected) * 1e-12);
    });
    await shot(page, '03-device');
  });

  it('shows an injected fault as an anomaly marker while the page stays open (live)', async () => {
    const faultAt = plant.simulatorStartedMs + FAULT_AFTER_S * 1000;
    const afterFault = async () =>
      (
        await livePage
          .getByTestId('anomaly-marker')
          .evaluateAll((markers) => markers.map((m) => Date.parse(m.getAttribute('data-window-start') ?? '')))
      ).filter((t) => t >= faultAt - 5_000).length;
    await until('a live anomaly marker after the fault', async () => (await afterFault()) > 0, 240_000);
    expect(
      await livePage.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded),
    ).toBe(true);
    // The push can arrive before the anomalies projection has written the row the API reads.
    await until(
      'the anomaly in the API',
      async () =>
        (await api.get<Array<{ deviceId: string; score: number }>>(`/api/anomalies?device=${FAULTY}`))
          .length > 0,
      60_000,
    );
    expect(Number(await livePage.getByTestId('anomaly-count').innerText())).toBeGreaterThan(0);
    await shot(livePage, '04-device-live-anomaly');
  });

  // The simulator writes log lines (start, fault onset, quality changes, status) and a trace of each publish
  // cycle to Kafka like a connector; a cycle's lines carry its trace id.
  let cycleTraceId = '';
  it('finds a log line the simulator wrote by text search, and its trace', async () => {
    const onset = await until(
      'the fault onset line in the API',
      async () => {
        const { items } = await api.get<{
          items: Array<{ deviceId: string; body: string; traceId: string }>;
        }>(
          `/api/logs?contains=${encodeURIComponent('fault onset')}&device=${FAULTY}&from=${new Date(plant.simulatorStartedMs - 60_000).toISOString()}`,
        );
        return items[0];
      },
      120_000,
    );
    expect(onset.body).toBe('fault onset: leak');
    cycleTraceId = onset.traceId;
    expect(cycleTraceId).toMatch(/^[0-9a-f]{32}$/);
    await page.goto(`${plant.baseUrl}/logs?from=now-1h&to=now`);
    await page.getByTestId('logs-search').fill('fault onset');
    await page.getByTestId('logs-submit').click();
    await page.waitForURL(/text=fault(%20|\+)onset/);
    const line = page.getByTestId('log-line').filter({ hasText: 'fault onset: leak' });
    await line.waitFor();
    expect(await line.innerText()).toContain(FAULTY);
    expect(await line.locator('a', { hasText: 'trace' }).getAttribute('href')).toContain(
      `/traces/${cycleTraceId}`,
    );
    await shot(page, '05-logs');
  });

  it("renders the simulator's publish cycle as a waterfall in call order", async () => {
    expect(cycleTraceId).not.toBe('');
    await until(
      'the trace in the API',
      async () => (await api.get<unknown[]>(`/api/traces/${cycleTraceId}`)).length === 3,
    );
    await page.goto(`${plant.baseUrl}/traces?from=now-15m&to=now&service=sentio-simulator`);
    await page.getByTestId('span-row').first().waitFor();
    await shot(page, '06-traces');
    await page.goto(`${plant.baseUrl}/traces/${cycleTraceId}`);
    await page.getByTestId('waterfall-row').nth(2).waitFor();
    const labels = await page.getByTestId('waterfall-row').locator('.label').allInnerTexts();
    expect(labels.map((l) => l.trim())).toEqual([
      'sentio-simulator simulator.cycle',
      'sentio-simulator plant.sample',
      'sentio-simulator publish kafka',
    ]);
    const bars = await page
      .getByTestId('waterfall-row')
      .locator('.bar')
      .evaluateAll((els) =>
        els.map((b) => {
          const style = (b as unknown as { style: { left: string; width: string } }).style;
          return { left: parseFloat(style.left), width: parseFloat(style.width) };
        }),
      );
    // The cycle spans the whole axis; publishing starts after sampling ends (by the API's numbers: a bar is
    // drawn at least 0.2 % wide, so a sampling span of a few microseconds overlaps the next bar on screen).
    expect(bars[0]).toEqual({ left: 0, width: 100 });
    const spans = await api.get<Array<{ name: string; startTimeUs: number; durationUs: number }>>(
      `/api/traces/${cycleTraceId}`,
    );
    const sample = spans.find((s) => s.name === 'plant.sample')!;
    const publish = spans.find((s) => s.name === 'publish kafka')!;
    expect(publish.startTimeUs).toBeGreaterThanOrEqual(sample.startTimeUs + sample.durationUs);
    expect(bars[2]!.left).toBeGreaterThanOrEqual(bars[1]!.left);
    await shot(page, '07-trace-waterfall');
  });

  it('shows every other page (screenshots for review)', async () => {
    for (const [path, name, ready] of [
      ['/explore?devices=pump-0001,pump-0002&metrics=flow_rate&mode=overlay', '08-metrics', 'mx-resolution'],
      ['/anomalies', '09-anomalies', 'anomaly-row'],
      ['/system', '10-system', 'component-row'],
      ['/settings', '11-settings', 'create-key'],
      ['/admin', '12-admin', 'users'],
    ] as const) {
      await page.goto(`${plant.baseUrl}${path}`);
      await page.getByTestId(ready).first().waitFor();
      await shot(page, name);
    }
    const tablet = await admin.newPage();
    await tablet.setViewportSize({ width: 800, height: 1100 });
    await tablet.goto(`${plant.baseUrl}/fleet`);
    await tablet.getByTestId('fleet-row').first().waitFor();
    await tablet.getByRole('button', { name: 'Light theme' }).click();
    await shot(tablet, '13-fleet-tablet-light');
    await tablet.close();
  });

  it('creates an alert rule in the editor (field-named error first), lists it and backtests it', async () => {
    const rule = {
      id: `console-flow-${randomBytes(4).toString('hex')}`,
      name: 'Console flow',
      // Always true for a running pump, so the backtest over the last minutes has firing segments to draw.
      condition: {
        kind: 'threshold',
        metric: 'flow_rate',
        aggregation: 'avg',
        window: '10s',
        op: '>',
        threshold: -1000,
      },
      selector: { deviceType: 'pump' },
      severity: 'minor',
    };
    await page.goto(`${plant.baseUrl}/alerts/rules?from=now-5m&to=now`);
    const editor = page.locator('#rule-text');
    await editor.waitFor();
    await editor.fill(
      JSON.stringify({ ...rule, condition: { ...rule.condition, threshold: 'hot' } }, null, 2),
    );
    await page.getByRole('button', { name: 'Create' }).click();
    const problem = page.getByTestId('rule-problem').filter({ hasText: 'condition.threshold' });
    await problem.waitFor();
    expect(await page.getByTestId('rule-row').filter({ hasText: rule.id }).count()).toBe(0);
    await editor.fill(JSON.stringify(rule, null, 2));
    await page.getByRole('button', { name: 'Create' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Saved ${rule.id}` })
      .waitFor();
    await page.getByTestId('rule-row').filter({ hasText: rule.id }).waitFor();
    expect(await page.getByTestId('rule-problem').count()).toBe(0);
    const listed = await api.get<Array<{ ruleId: string; kind: string }>>('/api/alerting/rules');
    expect(listed.find((r) => r.ruleId === rule.id)?.kind).toMatch(/threshold/i);

    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByTestId('preview-summary').waitFor({ timeout: 30_000 });
    const firing = page.locator('.lane .seg.firing');
    await firing.first().waitFor();
    expect(await page.getByTestId('preview-transition').count()).toBeGreaterThan(0);
    await shot(page, '15-alert-rules');

    // The rule runs on the live stream too: its alerts reach the alerts page.
    await page.goto(`${plant.baseUrl}/alerts`);
    await page.getByTestId('alert-row').first().waitFor({ timeout: 45_000 });
    await shot(page, '16-alerts');
  });

  it('refuses a viewer the admin pages, and the API refuses the calls', async () => {
    const context = await browser.newContext();
    const p = await context.newPage();
    await signIn(p, VIEWER);
    expect(await p.getByTestId('nav-fleet').count()).toBe(1);
    expect(await p.getByTestId('nav-system').count()).toBe(0);
    expect(await p.getByTestId('nav-admin').count()).toBe(0);
    await p.goto(`${plant.baseUrl}/admin`);
    await p.getByTestId('forbidden').waitFor();
    await shot(p, '14-viewer-forbidden');
    const viewer = await apiLogin(plant.baseUrl, VIEWER);
    expect((await viewer.call('GET', '/api/users')).status).toBe(403);
    expect((await viewer.call('GET', '/api/audit')).status).toBe(403);
    expect((await viewer.call('GET', '/api/system/status')).status).toBe(403);
    // Rules: a viewer reads them (and may preview) but has no buttons to change them, and the API refuses.
    await p.goto(`${plant.baseUrl}/alerts/rules`);
    await p.getByTestId('rule-row').first().waitFor();
    expect(await p.getByRole('button', { name: 'View' }).count()).toBeGreaterThan(0);
    for (const name of ['Save', 'Create', 'Pause', 'Resume', 'Delete'])
      expect(await p.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    await shot(p, '17-viewer-alert-rules');
    const refused = await viewer.call('POST', '/api/alerting/rules', { id: 'viewer-rule' });
    expect(refused.status).toBe(403);
    await context.close();
  });
});
