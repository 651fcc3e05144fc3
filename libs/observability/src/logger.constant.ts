/** The process's root logger (pino); components take a child of it named after themselves. */
export const LOGGER = Symbol('Logger');
