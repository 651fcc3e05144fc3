/** Confluent's error codes; clients branch on them, so they must match the reference registry exactly. */
export const ErrorCode = {
  subjectNotFound: 40401,
  versionNotFound: 40402,
  schemaNotFound: 40403,
  subjectNotSoftDeleted: 40405,
  subjectCompatibilityNotConfigured: 40408,
  incompatibleSchema: 409,
  invalidSchema: 42201,
  invalidVersion: 42202,
  invalidCompatibilityLevel: 42203,
  storeError: 50001,
} as const;

export class RegistryError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }

  /** Confluent derives the HTTP status from the first three digits of the error code. */
  get httpStatus(): number {
    return this.errorCode >= 1000 ? Math.floor(this.errorCode / 100) : this.errorCode;
  }
}
