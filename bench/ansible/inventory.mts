// Ansible inventory (INI) for lab hosts: the same hosts, key and port our tool's JSON inventory names.
// As a script: node bench/ansible/inventory.mts INVENTORY.json > inventory.ini
import { readFile } from 'node:fs/promises';

export interface BenchHost {
  address: string;
  sshPort: number;
  identity: string;
  /** Login user (default root); anyone else reaches root through sudo (the playbook's become). */
  user?: string;
}

export function ansibleInventory(hosts: BenchHost[], renderedDir: string): string {
  const lines = ['[brokers]'];
  hosts.forEach((h, i) => {
    lines.push(`h${i + 1} ansible_host=${h.address} ansible_port=${h.sshPort} ansible_user=${h.user ?? 'root'} ansible_ssh_private_key_file=${h.identity}`);
  });
  lines.push(
    '',
    '[brokers:vars]',
    'ansible_ssh_pipelining=true',
    'ansible_python_interpreter=/usr/bin/python3',
    // Lab hosts are recreated on reused ports with new host keys.
    "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'",
    `rendered_dir=${renderedDir}`,
    '',
  );
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, rendered = 'bench/results/rendered'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/ansible/inventory.mts INVENTORY.json [RENDERED_DIR]');
    process.exit(2);
  }
  const inv = JSON.parse(await readFile(file, 'utf8')) as { hosts: BenchHost[] };
  process.stdout.write(ansibleInventory(inv.hosts, rendered));
}
