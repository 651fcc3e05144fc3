#!/usr/bin/env python3
"""A Modbus TCP server with known values for the connector tests. Usage: modbus_server.py PORT

Unit 1 (addresses are zero-based protocol addresses):
  holding 0-1  float32 123.456, ABCD (big byte, big word order)
  holding 2    int16 -5
  holding 3-4  uint32 70000, CDAB (little word order)
  holding 5-8  float64 -1234.5678, ABCD
  input   0    uint16 250 (the test scales it by 0.1)
  coil    0    on; discrete input 0 off
Each table holds 10 entries: reading past them returns exception 2 (illegal data address).
"""
import asyncio
import struct
import sys

from pymodbus.datastore import (
    ModbusDeviceContext,
    ModbusSequentialDataBlock,
    ModbusServerContext,
)
from pymodbus.server import StartAsyncTcpServer


def words(fmt, value):
    raw = struct.pack(fmt, value)
    return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]


def holding():
    regs = words(">f", 123.456) + words(">h", -5)
    regs += list(reversed(words(">I", 70000)))
    regs += words(">d", -1234.5678)
    return regs + [0] * (10 - len(regs))


async def main(port):
    # pymodbus maps protocol address N to block index N + 1, so each block starts at 1.
    device = ModbusDeviceContext(
        co=ModbusSequentialDataBlock(1, [1] + [0] * 9),
        di=ModbusSequentialDataBlock(1, [0] * 10),
        hr=ModbusSequentialDataBlock(1, holding()),
        ir=ModbusSequentialDataBlock(1, [250] + [0] * 9),
    )
    context = ModbusServerContext(devices={1: device}, single=False)
    print(f"modbus server on 127.0.0.1:{port}", flush=True)
    await StartAsyncTcpServer(context=context, address=("127.0.0.1", port))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
