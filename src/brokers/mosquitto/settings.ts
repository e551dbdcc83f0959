import type { BrokerSettingsRules } from '../../settings/broker-rules.ts';
import { checkMetricsSettings } from '../metrics-settings.ts';

/** What loading settings takes from the Mosquitto role: its listeners, replaceable templates and the metrics rules. */
export const mosquittoSettingsRules: BrokerSettingsRules = {
  listeners: ['mqtt', 'websocket', 'mqtts', 'wss'],
  templateNames: ['mosquitto.conf', 'mosquitto-acl'],
  resolve: (settings, _overrides, _baseDir, errors) => {
    checkMetricsSettings(settings, 'mqtt', errors);
    return {};
  },
};
