export { containerOptions, desiredPulumiContainer, dockerContainerInputs, imageFor, publishedPorts, pulumiSeeds, type PublishedPort } from './container-files.ts';
export { mqttBrokerHostProvider, type HostProviderInputs, type HostProviderOutputs } from './host-provider.ts';
export { MqttBrokerContainer, type MqttBrokerContainerArgs } from './mqtt-broker-container.ts';
export { MqttBrokerHost, type MqttBrokerHostArgs } from './mqtt-broker-host.ts';
export { configHash, credentialsHash, publicSettings, toPlainSettings, type PlainSettings, type Revealed } from './plain-settings.ts';
export { project, readStackConfig, type ConfigReader, type StackConfig } from './stack-config.ts';
