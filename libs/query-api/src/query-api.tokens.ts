/** Injection tokens of the module's configuration, the signing secret and its logger. */
export const QUERY_API_CONFIG = Symbol('QueryApiConfig');
export const QUERY_API_LOGGER = Symbol('QueryApiLogger');
/** The module class itself, so the OpenAPI scan can be limited to it without an import cycle. */
export const QUERY_API_MODULE = Symbol('QueryApiModule');
