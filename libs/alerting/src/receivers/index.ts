// Each receiver registers itself when imported: adding one is a new file and a line here.
export { webhookReceiver, signBody } from './webhook.receiver.js';
export { slackReceiver, slackMessage } from './slack.receiver.js';
export { emailReceiver, emailContent } from './email.receiver.js';
export { alertmanagerReceiver } from './alertmanager.receiver.js';
export {
  receiverManifest,
  receiverTypes,
  registerReceiver,
  type ReceiverManifest,
} from './receiver-registry.js';
