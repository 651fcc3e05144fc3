import argon2 from 'argon2';

export const MIN_PASSWORD_LENGTH = 12;

/** argon2id hashes; a login for an unknown user still pays for one verification, so timing tells nothing. */
export class PasswordService {
  private constructor(private readonly decoy: string) {}

  static async create(): Promise<PasswordService> {
    return new PasswordService(await argon2.hash(`decoy-${Math.random()}`));
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id });
  }

  async verify(hash: string | undefined, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash ?? this.decoy, password).then((ok) => ok && hash !== undefined);
    } catch {
      // A corrupt stored hash is a failed login, not a server error.
      return false;
    }
  }
}
