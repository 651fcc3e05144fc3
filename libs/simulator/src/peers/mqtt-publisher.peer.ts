import mqtt, { type MqttClient } from 'mqtt';
import type { SimulatedDevice, SimulatedSample } from '../plant.type.js';
import { ieeeAddressOf } from './ieee-address.util.js';

export interface MqttPublisherOptions {
  url: string;
  /** Generic JSON: `<prefix>/<kind>/<device id>`, one object of every metric per tick. */
  prefix: string;
  /** Zigbee2MQTT base topic the environment sensors appear under. */
  z2mBaseTopic: string;
}

export { ieeeAddressOf };

/** The retained `bridge/devices` list Zigbee2MQTT would publish for the plant's environment sensors. */
export function z2mBridgeDevices(devices: SimulatedDevice[]): unknown[] {
  return devices.flatMap((d, index) =>
    d.type !== 'environment_sensor'
      ? []
      : [
          {
            ieee_address: ieeeAddressOf(index),
            friendly_name: d.id,
            type: 'EndDevice',
            supported: true,
            interview_completed: true,
            definition: {
              vendor: d.vendor,
              model: d.model,
              description: 'Simulated environment sensor',
              exposes: d.metrics.map((m) => ({
                type: 'numeric',
                name: m.name,
                property: m.name,
                access: 1,
                unit: m.unit,
              })),
            },
          },
        ],
  );
}

/**
 * Publishes the plant to an MQTT broker: every device as generic JSON, and the environment sensors also the
 * way Zigbee2MQTT does (bridge state and device list, availability, state messages), all at QoS 0 since a
 * simulator's value is superseded by the next tick anyway.
 */
export class MqttPublisherPeer {
  private readonly devices: Map<string, SimulatedDevice>;

  private constructor(
    private readonly client: MqttClient,
    private readonly options: MqttPublisherOptions,
    devices: SimulatedDevice[],
  ) {
    this.devices = new Map(devices.map((d) => [d.id, d]));
  }

  static async start(options: MqttPublisherOptions, devices: SimulatedDevice[]): Promise<MqttPublisherPeer> {
    const client = await mqtt.connectAsync(options.url, { clientId: `sentio-simulator-${process.pid}` });
    const peer = new MqttPublisherPeer(client, options, devices);
    const base = options.z2mBaseTopic;
    const retained = { qos: 1, retain: true } as const;
    await client.publishAsync(`${base}/bridge/state`, JSON.stringify({ state: 'online' }), retained);
    await client.publishAsync(`${base}/bridge/devices`, JSON.stringify(z2mBridgeDevices(devices)), retained);
    for (const d of devices.filter((x) => x.type === 'environment_sensor')) {
      await client.publishAsync(
        `${base}/${d.id}/availability`,
        JSON.stringify({ state: 'online' }),
        retained,
      );
    }
    return peer;
  }

  async publish(samples: SimulatedSample[]): Promise<void> {
    const byDevice = new Map<string, SimulatedSample[]>();
    for (const s of samples) byDevice.set(s.deviceId, [...(byDevice.get(s.deviceId) ?? []), s]);
    const sends: Array<Promise<unknown>> = [];
    for (const [deviceId, own] of byDevice) {
      const device = this.devices.get(deviceId);
      if (!device) continue;
      const values = Object.fromEntries(own.map((s) => [s.metric, s.value]));
      sends.push(
        this.client.publishAsync(
          `${this.options.prefix}/${device.type}/${deviceId}`,
          JSON.stringify({ ts: own[0]!.timestampMs, ...values }),
        ),
      );
      if (device.type === 'environment_sensor') {
        // Zigbee2MQTT leaves out what a device did not report, rather than sending null.
        const state = Object.fromEntries(own.filter((s) => s.value !== null).map((s) => [s.metric, s.value]));
        sends.push(
          this.client.publishAsync(
            `${this.options.z2mBaseTopic}/${deviceId}`,
            JSON.stringify({ ...state, linkquality: 120 }),
          ),
        );
      }
    }
    await Promise.all(sends);
  }

  async stop(): Promise<void> {
    await this.client.endAsync();
  }
}
