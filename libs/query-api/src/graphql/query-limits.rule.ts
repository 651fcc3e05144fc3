import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';

export interface QueryLimits {
  maxDepth: number;
  /** Most fields one operation selects, every fragment spread counted where it is used. */
  maxComplexity: number;
}

interface Cost {
  depth: number;
  fields: number;
}

/**
 * Refuses operations nested too deep or selecting too many fields before anything runs. Fragments are expanded
 * where they are spread, so they cannot hide cost; a fragment cycle is already an error of its own.
 */
export function queryLimitsRule(limits: QueryLimits): (context: ValidationContext) => ASTVisitor {
  return (context) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const measure = (set: SelectionSetNode | undefined, visiting: Set<string>): Cost => {
      const cost: Cost = { depth: 0, fields: 0 };
      for (const selection of set?.selections ?? []) {
        let inner: Cost;
        if (selection.kind === Kind.FIELD) {
          const below = measure(selection.selectionSet, visiting);
          inner = { depth: below.depth + 1, fields: below.fields + 1 };
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          inner = measure(selection.selectionSet, visiting);
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          if (!fragment || visiting.has(name)) continue;
          inner = measure(fragment.selectionSet, new Set(visiting).add(name));
        }
        cost.depth = Math.max(cost.depth, inner.depth);
        cost.fields += inner.fields;
        // Stop early: a hostile document may be huge.
        if (cost.fields > limits.maxComplexity) return cost;
      }
      return cost;
    };
    return {
      OperationDefinition(node) {
        const cost = measure(node.selectionSet, new Set());
        if (cost.depth > limits.maxDepth) {
          context.reportError(
            new GraphQLError(`query depth ${cost.depth} exceeds the limit of ${limits.maxDepth}`),
          );
        }
        if (cost.fields > limits.maxComplexity) {
          context.reportError(
            new GraphQLError(`query selects more than ${limits.maxComplexity} fields, the limit`),
          );
        }
      },
    };
  };
}
