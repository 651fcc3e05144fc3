import { once } from 'node:events';
import modbusSerial from 'modbus-serial';
import type { ModbusRegisterMap } from './modbus-register-map.util.js';

/** Modbus exception 2 (illegal data address) for reads outside the map. */
function illegalAddress(error: Error): Error & { modbusErrorCode: number } {
  return Object.assign(error, { modbusErrorCode: 0x02 });
}

/** Serves a register map over Modbus TCP (modbus-serial's ServerTCP), one unit id per device. */
export class ModbusServerPeer {
  private constructor(private readonly server: InstanceType<typeof modbusSerial.ServerTCP>) {}

  static async start(map: ModbusRegisterMap, port: number, host = '0.0.0.0'): Promise<ModbusServerPeer> {
    const read = (address: number, length: number, unitId: number): number[] => {
      const words = map.read(unitId, address, length);
      if (words instanceof Error) throw illegalAddress(words);
      return words;
    };
    const server = new modbusSerial.ServerTCP(
      {
        getHoldingRegister: (address: number, unitId: number) => read(address, 1, unitId)[0]!,
        getMultipleHoldingRegisters: read,
      },
      { host, port, unitID: 255 },
    );
    await once(server, 'initialized');
    return new ModbusServerPeer(server);
  }

  stop(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }
}
