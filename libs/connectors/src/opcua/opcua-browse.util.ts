import { compileTopicPattern, fillTemplate } from '../common/topic-pattern.util.js';
import type { OpcuaBrowseRule } from './opcua.config.js';

/** One forward hierarchical reference, properties left out: what browsing a node yields. */
export interface BrowsedChild {
  nodeId: string;
  /** The browse name without its namespace index. */
  name: string;
  nodeClass: 'Object' | 'Variable' | 'Other';
}

/** Browses many nodes at once (one Browse request, continuation points followed), in the given order. */
export type Browser = (nodeIds: string[]) => Promise<BrowsedChild[][]>;

export interface DiscoveredVariable {
  nodeId: string;
  path: string;
  deviceId: string;
  metric: string;
}

/**
 * Walks the address space below the rule's root, one Browse request per level, descending only where the
 * path pattern can still match (a literal level prunes every other name), and returns the variables whose
 * path matches, with the device and metric their captures name.
 */
export async function discoverVariables(
  browse: Browser,
  rule: OpcuaBrowseRule,
): Promise<DiscoveredVariable[]> {
  const pattern = compileTopicPattern(rule.path);
  const levels = pattern.filter.split('/');
  const multi = levels.indexOf('#');
  const depthLimit = multi === -1 ? levels.length : rule.maxDepth;
  const admits = (depth: number, name: string): boolean => {
    if (multi !== -1 && depth >= multi) return true;
    const level = levels[depth];
    return level === '+' || level === name;
  };
  const found: DiscoveredVariable[] = [];
  const seen = new Set<string>([rule.root]);
  let frontier = [{ nodeId: rule.root, path: '' }];
  for (let depth = 0; depth < depthLimit && frontier.length > 0; depth++) {
    const children = await browse(frontier.map((f) => f.nodeId));
    const next: typeof frontier = [];
    frontier.forEach((parent, i) => {
      for (const child of children[i] ?? []) {
        if (child.nodeClass === 'Other' || seen.has(child.nodeId) || !admits(depth, child.name)) continue;
        seen.add(child.nodeId);
        const path = parent.path ? `${parent.path}/${child.name}` : child.name;
        const captures = child.nodeClass === 'Variable' ? pattern.match(path) : undefined;
        if (captures) {
          found.push({
            nodeId: child.nodeId,
            path,
            deviceId: fillTemplate(rule.deviceId, captures),
            metric: fillTemplate(rule.metric, captures),
          });
        }
        next.push({ nodeId: child.nodeId, path });
      }
    });
    frontier = next;
  }
  return found;
}
