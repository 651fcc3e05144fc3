import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';

/**
 * Apollo's plugins as the query API wants them. The cache-control plugin is on by default and listens to every
 * field resolved: that makes Apollo wrap each field's resolver for the life of the process, and a fleet page
 * (100 devices with their latest values, ~6,500 fields) pays that hook per field. The API sets no cache hints
 * (answers are reused server-side, by ReadCache), so the plugin only costs.
 */
export function apolloPlugins(): ApolloServerPlugin[] {
  return [ApolloServerPluginCacheControlDisabled()];
}
