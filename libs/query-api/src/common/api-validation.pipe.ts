import { BadRequestException, ValidationPipe } from '@nestjs/common';

/**
 * Validates and converts query strings and bodies against their DTOs; unknown fields are refused rather than
 * ignored, so a typo in a filter is an error and not a silently wider query.
 */
export const apiValidationPipe = new ValidationPipe({
  transform: true,
  whitelist: true,
  forbidNonWhitelisted: true,
  exceptionFactory: (errors) =>
    new BadRequestException(
      errors.flatMap((e) =>
        Object.values(e.constraints ?? { invalid: `${e.property}: invalid` }).map((m) =>
          m.startsWith(`${e.property}:`) ? m : `${e.property}: ${m.replace(`${e.property} `, '')}`,
        ),
      ),
    ),
});
