import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** Query strings carry booleans as text; GraphQL passes real ones through. */
export function QueryBoolean(): PropertyDecorator {
  const decorators = [
    IsOptional(),
    Transform(({ value }: { value: unknown }) =>
      value === 'true' ? true : value === 'false' ? false : value,
    ),
    IsBoolean({ message: '$property: expected true or false' }),
  ];
  return (target, key) => decorators.forEach((d) => d(target, key));
}

/** Page size; the configured row limit is checked by the services, which know it. */
export function PageLimit(): PropertyDecorator {
  const decorators = [
    IsOptional(),
    Type(() => Number),
    IsInt({ message: '$property: expected an integer' }),
    Min(1, { message: '$property: expected at least 1' }),
    Max(1_000_000, { message: '$property: expected at most 1000000' }),
  ];
  return (target, key) => decorators.forEach((d) => d(target, key));
}

/** A free-text filter value: bound as a parameter, so only its length needs a bound. */
export function FilterText(maxLength = 256, optional = true): PropertyDecorator {
  const decorators = [
    ...(optional ? [IsOptional()] : []),
    IsString({ message: '$property: expected text' }),
    MaxLength(maxLength, { message: `$property: expected at most ${maxLength} characters` }),
  ];
  return (target, key) => decorators.forEach((d) => d(target, key));
}
