import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { queryLimitsRule } from './query-limits.rule.js';

const schema = buildSchema(`
  type Node { id: String, child: Node }
  type Query { node: Node }
`);

const errors = (query: string) =>
  validate(schema, parse(query), [queryLimitsRule({ maxDepth: 3, maxComplexity: 5 })]).map((e) => e.message);

describe('queryLimitsRule', () => {
  it('admits an operation within the limits', () => {
    expect(errors('{ node { id child { id } } }')).toEqual([]);
  });

  it('refuses depth beyond the limit, also through fragments', () => {
    expect(errors('{ node { child { child { id } } } }')).toEqual(['query depth 4 exceeds the limit of 3']);
    expect(
      errors(
        'query { node { ...A } } fragment A on Node { child { ...B } } fragment B on Node { child { id } }',
      ),
    ).toEqual(['query depth 4 exceeds the limit of 3']);
  });

  it('refuses too many fields, counting each spread of a fragment', () => {
    expect(errors('{ node { ...F } n2: node { ...F } } fragment F on Node { id child { id } }')).toEqual([
      'query selects more than 5 fields, the limit',
    ]);
  });
});
