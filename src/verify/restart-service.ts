import type { Transport } from '../transport/transport.ts';

export const serviceNamePattern = /^[A-Za-z0-9][A-Za-z0-9@._-]{0,127}$/;

/** A restartBroker for verifyBroker: `systemctl restart <service>` over a fresh connection, then close it. */
export function restartViaSystemctl(connect: () => Promise<Transport>, service: string): () => Promise<void> {
  if (!serviceNamePattern.test(service)) throw new RangeError(`"${service}" is not a systemd unit name`);
  return async () => {
    const transport = await connect();
    try {
      const result = await transport.exec(['systemctl', 'restart', service]);
      if (result.code !== 0) {
        throw new Error(`systemctl restart ${service} on ${transport.label} exited ${result.code}: ${(result.stderr || result.stdout).trim()}`);
      }
    } finally {
      await transport.close();
    }
  };
}
