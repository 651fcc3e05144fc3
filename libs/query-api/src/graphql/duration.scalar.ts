import { Scalar, type CustomScalar } from '@nestjs/graphql';
import { Kind, type ValueNode } from 'graphql';

/** The TypeScript side of the Duration scalar: the services get the text REST would have given them. */
export class Duration extends String {}

/**
 * A duration as REST takes it: seconds as a number, or text such as `30s`, `5m`, `1h`, `1d`. A query
 * string carries `step=60` as text, so GraphQL accepts an Int as well as a String and hands the services
 * the same text; they parse and validate it. A Nest-built scalar (not a GraphQLScalarType of our own), so
 * the schema and the scalar come from one copy of graphql-js.
 */
@Scalar('Duration', () => Duration)
export class DurationScalar implements CustomScalar<string, string> {
  description =
    'Seconds as a number, or a duration such as "30s", "5m", "1h", "1d" (plain digits are seconds).';

  serialize(value: unknown): string {
    return String(value);
  }

  parseValue(value: unknown): string {
    return fromInput(value);
  }

  parseLiteral(ast: ValueNode): string {
    if (ast.kind === Kind.INT || ast.kind === Kind.STRING) return fromInput(ast.value);
    if (ast.kind === Kind.FLOAT) return fromInput(Number(ast.value));
    throw new TypeError('Duration: expected a whole number of seconds or a text such as "5m"');
  }
}

function fromInput(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return String(value);
  throw new TypeError('Duration: expected a whole number of seconds or a text such as "5m"');
}
