#!/usr/bin/env python3
"""An OPC UA server built on asyncua (an implementation independent of node-opcua) for the connector
tests. Usage: opcua_server.py PORT

Security None, anonymous. Objects/Boiler/<Device>/<Variable>, namespace "urn:sentio:test", string ids:
  Boiler/Boiler1/Counter      Int32, 0, 1, 2 ... one step every 100 ms, source timestamp = step time
  Boiler/Boiler1/Setpoint     Double 72.5, constant
  Boiler/Boiler1/Burner       Boolean true, constant
  Boiler/Boiler2/Pressure     Double 1.25 with status UncertainLastUsableValue
  Boiler/Boiler2/Flame        Double 0.0 with status BadSensorFailure
  Boiler/Boiler2/Label        String "north": not a number
"""
import asyncio
import sys
from datetime import datetime, timezone

from asyncua import Server, ua


async def main(port):
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/asyncua")
    server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    ns = await server.register_namespace("urn:sentio:test")
    boiler = await server.nodes.objects.add_folder(ua.NodeId("Boiler", ns), ua.QualifiedName("Boiler", ns))
    b1 = await boiler.add_object(ua.NodeId("Boiler1", ns), ua.QualifiedName("Boiler1", ns))
    b2 = await boiler.add_object(ua.NodeId("Boiler2", ns), ua.QualifiedName("Boiler2", ns))

    async def variable(parent, name, value, variant_type, status=ua.StatusCodes.Good):
        node = await parent.add_variable(ua.NodeId(f"{parent.nodeid.Identifier}.{name}", ns),
                                         ua.QualifiedName(name, ns), ua.Variant(value, variant_type))
        await node.write_value(ua.DataValue(ua.Variant(value, variant_type), ua.StatusCode(status),
                                            SourceTimestamp=datetime.now(timezone.utc)))
        return node

    counter = await variable(b1, "Counter", 0, ua.VariantType.Int32)
    await variable(b1, "Setpoint", 72.5, ua.VariantType.Double)
    await variable(b1, "Burner", True, ua.VariantType.Boolean)
    await variable(b2, "Pressure", 1.25, ua.VariantType.Double, ua.StatusCodes.UncertainLastUsableValue)
    await variable(b2, "Flame", 0.0, ua.VariantType.Double, ua.StatusCodes.BadSensorFailure)
    await variable(b2, "Label", "north", ua.VariantType.String)

    async with server:
        print(f"asyncua server on 127.0.0.1:{port}", flush=True)
        step = 0
        while True:
            await asyncio.sleep(0.1)
            step += 1
            await counter.write_value(ua.DataValue(ua.Variant(step, ua.VariantType.Int32),
                                                   SourceTimestamp=datetime.now(timezone.utc)))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
