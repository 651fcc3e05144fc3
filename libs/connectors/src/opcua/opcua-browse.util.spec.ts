import { describe, expect, it } from 'vitest';
import { opcuaConfigSchema } from './opcua.config.js';
import { discoverVariables, type BrowsedChild, type Browser } from './opcua-browse.util.js';

// Objects/Plant/{Pump1,Pump2}/{Flow,Speed} plus a folder and a variable the pattern must leave out.
const tree: Record<string, BrowsedChild[]> = {
  'ns=0;i=85': [
    { nodeId: 'ns=2;s=Plant', name: 'Plant', nodeClass: 'Object' },
    { nodeId: 'ns=0;i=2253', name: 'Server', nodeClass: 'Object' },
  ],
  'ns=2;s=Plant': [
    { nodeId: 'ns=2;s=Pump1', name: 'Pump1', nodeClass: 'Object' },
    { nodeId: 'ns=2;s=Pump2', name: 'Pump2', nodeClass: 'Object' },
    { nodeId: 'ns=2;s=Plant.Mode', name: 'Mode', nodeClass: 'Variable' },
  ],
  'ns=2;s=Pump1': [
    { nodeId: 'ns=2;s=Pump1.Flow', name: 'Flow', nodeClass: 'Variable' },
    { nodeId: 'ns=2;s=Pump1.Speed', name: 'Speed', nodeClass: 'Variable' },
  ],
  'ns=2;s=Pump2': [
    { nodeId: 'ns=2;s=Pump2.Flow', name: 'Flow', nodeClass: 'Variable' },
    { nodeId: 'ns=2;s=Pump2.Method', name: 'Reset', nodeClass: 'Other' },
  ],
};

function recording(): { browse: Browser; requested: string[][] } {
  const requested: string[][] = [];
  return {
    requested,
    browse: async (ids) => {
      requested.push(ids);
      return ids.map((id) => tree[id] ?? []);
    },
  };
}

const rule = (fields: Record<string, unknown>) =>
  opcuaConfigSchema.parse({
    name: 'x',
    type: 'opcua',
    endpointUrl: 'opc.tcp://h:4840',
    browse: [fields],
  }).browse[0]!;

describe('discoverVariables', () => {
  it('captures device and metric from the path, pruning levels the pattern rules out', async () => {
    const { browse, requested } = recording();
    const found = await discoverVariables(browse, rule({ path: 'Plant/{device}/{metric}' }));
    expect(found).toEqual([
      { nodeId: 'ns=2;s=Pump1.Flow', path: 'Plant/Pump1/Flow', deviceId: 'Pump1', metric: 'Flow' },
      { nodeId: 'ns=2;s=Pump1.Speed', path: 'Plant/Pump1/Speed', deviceId: 'Pump1', metric: 'Speed' },
      { nodeId: 'ns=2;s=Pump2.Flow', path: 'Plant/Pump2/Flow', deviceId: 'Pump2', metric: 'Flow' },
    ]);
    // The Server object is never browsed: "Plant" is literal at the first level.
    expect(requested).toEqual([
      ['ns=0;i=85'],
      ['ns=2;s=Plant'],
      ['ns=2;s=Pump1', 'ns=2;s=Pump2', 'ns=2;s=Plant.Mode'],
    ]);
  });

  it('fills templates and matches literal levels', async () => {
    const found = await discoverVariables(
      recording().browse,
      rule({ root: 'ns=2;s=Plant', path: '{pump}/Flow', deviceId: 'line-1-{pump}', metric: 'flow_rate' }),
    );
    expect(found.map((f) => [f.deviceId, f.metric])).toEqual([
      ['line-1-Pump1', 'flow_rate'],
      ['line-1-Pump2', 'flow_rate'],
    ]);
  });

  it('walks any depth under a trailing #, bounded by maxDepth', async () => {
    const all = await discoverVariables(
      recording().browse,
      rule({ path: '#', deviceId: 'plant', metric: 'm' }),
    );
    expect(all.map((f) => f.path)).toEqual([
      'Plant/Mode',
      'Plant/Pump1/Flow',
      'Plant/Pump1/Speed',
      'Plant/Pump2/Flow',
    ]);
    const shallow = await discoverVariables(
      recording().browse,
      rule({ path: '#', deviceId: 'plant', metric: 'm', maxDepth: 2 }),
    );
    expect(shallow.map((f) => f.path)).toEqual(['Plant/Mode']);
  });
});
