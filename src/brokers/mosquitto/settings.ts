import type { BrokerSettingsRules } from '../../settings/broker-rules.ts';

/** What loading settings takes from the Mosquitto role: its listeners and replaceable templates, no rules of its own. */
export const mosquittoSettingsRules: BrokerSettingsRules = {
  listeners: ['mqtt', 'websocket', 'mqtts', 'wss'],
  templateNames: ['mosquitto.conf', 'mosquitto-acl'],
};
