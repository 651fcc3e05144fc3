import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { HttpReceiver, SmtpPeer } from '../../tools/peers/alerting-peers.js';
import { ApiClient, sleep, until, type WebhookBody } from './alerting-support.js';
import { sandbox, type Sandbox } from './support/backbone.js';
import { freePort, repoRoot } from './support/platform-process.js';

/**
 * The issue's "done means": `bin/sentio up` with a simulated bearing fault and the notification config of
 * one YAML file (`--alerting`) produces one grouped, explained alert to the webhook and by email, visible in
 * the API's history. `up` runs whole (supervisor, prepare step, platform `run all`, simulator) against the
 * test broker and registry (KAFKA_BROKERS / SCHEMA_REGISTRY_URL: up starts no broker of its own), in its
 * own state folder, namespace and HTTP port; the plant's own rules (libs/alerting/rules/plant.yaml).
 */
const SECRET = 'a webhook secret for the up test';
const PASSWORD = 'a long enough admin passphrase';

describe('sentio up: a bearing fault becomes one grouped, explained notification', () => {
  let box: Sandbox;
  let webhook: HttpReceiver;
  let smtp: SmtpPeer;
  let up: ChildProcess | undefined;
  let output = '';
  let stateDir: string;
  let httpPort: number;

  beforeAll(async () => {
    box = await sandbox('alerting_up');
    [webhook, smtp] = await Promise.all([HttpReceiver.start(), SmtpPeer.start()]);
    stateDir = mkdtempSync(join(tmpdir(), 'sentio-up-alerting-'));
    httpPort = await freePort();
    const alertingFile = join(stateDir, 'alerting.yaml');
    writeFileSync(
      alertingFile,
      stringify({
        receivers: [
          {
            name: 'plant-ops',
            webhook: [{ url: `${webhook.url}/sentio`, secret: SECRET }],
            email: [
              {
                to: 'maintenance@example.com',
                from: 'sentio@example.com',
                smarthost: `127.0.0.1:${smtp.port}`,
                requireTls: true,
                tlsInsecure: true,
                auth: { username: smtp.user, password: smtp.password },
              },
            ],
          },
        ],
        route: {
          receiver: 'plant-ops',
          groupBy: ['device'],
          groupWait: '20s',
          groupInterval: '10m',
          repeatInterval: '4h',
        },
      }),
    );
    // Bearing wear that began eight hours ago: the pump runs hot and vibrates from its first sample on.
    const fault = `pump-0001:bearing_wear@${Date.now() - 8 * 3_600_000},severity=2`;
    up = spawn(
      resolve(repoRoot, 'bin/sentio'),
      ['up', '--direct', '--devices', '5', '--fault', fault, '--alerting', alertingFile],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          ...box.env,
          SENTIO_UP_STATE_DIR: stateDir,
          SENTIO_CLICKHOUSE_PATH: box.clickhousePath,
          SENTIO_HTTP_PORT: String(httpPort),
          SENTIO_LOG_LEVEL: 'warn',
          ALERTING_GROUP_ID: `alerting-${box.namespace}`,
          SENTIO_ADMIN_USER: 'admin',
          SENTIO_ADMIN_PASSWORD: PASSWORD,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    up.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    up.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await until(
      'the up banner',
      () => {
        if (up!.exitCode !== null) throw new Error(`up exited ${up!.exitCode}:\n${output.slice(-4000)}`);
        return output.includes('Sentio is running');
      },
      300_000,
    );
  });

  afterAll(async () => {
    if (up && up.exitCode === null && up.signalCode === null) {
      up.kill('SIGTERM');
      await once(up, 'exit');
    }
    await Promise.all([webhook?.stop(), smtp?.stop()]);
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('notifies the webhook and the mailbox once, grouped by device and explained, and the API has the history', async () => {
    expect(output).toMatch(/alerting +rules .*libs\/alerting\/rules\/plant\.yaml; receivers plant-ops/);
    const hooks = () =>
      webhook.requests
        .filter((r) => r.path === '/sentio')
        .map((r) => ({ request: r, body: JSON.parse(r.body) as WebhookBody }));
    const first = await until(
      'the pump-0001 notification',
      () => hooks().find((h) => h.body.groupLabels['device'] === 'pump-0001'),
      420_000,
    );
    const { body, request } = first;
    expect(body.version).toBe('4');
    expect(body.status).toBe('firing');
    expect(body.receiver).toBe('plant-ops');
    const hot = body.alerts.find((a) => a.labels['alertname'] === 'Pump bearing hot');
    expect(hot, JSON.stringify(body.alerts.map((a) => a.labels))).toBeDefined();
    expect(hot!.labels).toMatchObject({
      device: 'pump-0001',
      rule_id: 'pump-bearing-hot',
      team: 'maintenance',
      device_type: 'pump',
    });
    // Explained: what, how far over, why this severity.
    expect(hot!.annotations['summary']).toMatch(/^pump-0001 bearing at \d+(\.\d+)? °C \(limit 72\)$/);
    expect(hot!.annotations['description']).toMatch(/^Bearing temperature of pump-0001 \(site-01, line-01\)/);
    expect(hot!.annotations['explanation']).toMatch(
      /^avg\(bearing_temperature\) over 60s = \d+(\.\d+)? > \d+/,
    );
    expect(hot!.annotations['severity_reason']).toMatch(/^base major/);
    const ts = request.headers['x-sentio-timestamp'] as string;
    expect(request.headers['x-sentio-signature']).toBe(
      `sha256=${createHmac('sha256', SECRET).update(`${ts}.${request.body}`).digest('hex')}`,
    );

    const mail = await until('the pump-0001 email', () =>
      smtp.messages().find((m) => /Subject: \[FIRING:\d+\] device=pump-0001/.test(m)),
    );
    expect(mail).toMatch(/To: maintenance@example.com/);
    expect(mail).toMatch(/pump-0001 bearing at/);

    const api = await ApiClient.login(`http://127.0.0.1:${httpPort}`, 'admin', PASSWORD);
    const alerts = await api.get<
      Array<{ alertId: string; ruleId: string; deviceId: string; status: string }>
    >('/api/alerting/alerts?state=all');
    const alert = alerts.find((a) => a.ruleId === 'pump-bearing-hot' && a.deviceId === 'pump-0001');
    expect(alert?.status).toBe('FIRING');
    const history = await api.get<Array<{ status: string; previousStatus: string }>>(
      `/api/alerting/alerts/${alert!.alertId}/history`,
    );
    expect(history.map((h) => `${h.previousStatus}>${h.status}`)).toEqual([
      'INACTIVE>PENDING',
      'PENDING>FIRING',
    ]);
    // The healthy pump's bearing is not hot.
    expect(alerts.some((a) => a.ruleId === 'pump-bearing-hot' && a.deviceId !== 'pump-0001')).toBe(false);

    // One notification: nothing more for this group while its alerts stay as they are.
    await sleep(20_000);
    expect(hooks().filter((h) => h.body.groupLabels['device'] === 'pump-0001')).toHaveLength(1);
    expect(smtp.messages().filter((m) => /Subject: \[FIRING:\d+\] device=pump-0001/.test(m))).toHaveLength(1);
  });
});
