import { inject } from '@angular/core';
import { Router, type CanActivateFn } from '@angular/router';
import { AuthService } from './auth.service';
import type { Role } from './roles.util';

/** Signed in (restoring the session from the refresh cookie first), else to sign-in with a way back. */
export const signedInGuard: CanActivateFn = async (_route, state) => {
  // inject() only works before the first await.
  const auth = inject(AuthService);
  const router = inject(Router);
  if (auth.signedIn() || (await auth.refresh())) return true;
  return router.createUrlTree(['/sign-in'], { queryParams: { next: state.url } });
};

/** Hides pages a role may not use; the API refuses the calls anyway, this only keeps the UI honest. */
export function roleGuard(needed: Role): CanActivateFn {
  return () => {
    const auth = inject(AuthService);
    return auth.can(needed) ? true : inject(Router).createUrlTree(['/forbidden']);
  };
}
