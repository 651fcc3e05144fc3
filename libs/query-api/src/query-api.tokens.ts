/** Injection tokens of the module's configuration, its logger and the access-token signing secret. */
export const QUERY_API_CONFIG = Symbol('QueryApiConfig');
export const QUERY_API_LOGGER = Symbol('QueryApiLogger');
export const JWT_SECRET = Symbol('JwtSecret');
