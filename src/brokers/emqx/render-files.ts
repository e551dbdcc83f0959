import { emptyFacts } from '../../facts/empty-facts.ts';
import type { ManagedFile } from '../../operations/managed-file.ts';
import type { Settings } from '../../settings/load.ts';
import { emqxConfigFile, emqxTlsLayout } from './files.ts';
import { tlsFiles } from '../../tls/server-files.ts';
import { chooseCookie, chooseNodeName } from './identity.ts';
import { wantedEmqxVersion } from './package-source.ts';
import { emqxReviewText, reviewFileName } from './review.ts';

/**
 * emqx.conf as a fresh host would get it, without a host (--render-to, Pulumi's fingerprint): the
 * pinned default version, the first seed's node name, and the settings' cookie or a placeholder.
 * The file is secret, so the fingerprint never includes it. Last, a review file that is not put on
 * the host: the admins, users and ACL rules that go through the REST API, with no password.
 */
export function emqxRenderFiles(settings: Settings): ManagedFile[] {
  const facts = emptyFacts();
  const cookie = chooseCookie(settings, null, () => 'generated-on-the-host-at-first-run');
  const review: ManagedFile = { path: reviewFileName, content: emqxReviewText(settings), mode: '0644', owner: 'root', group: 'root', apply: 'reload' };
  return [...tlsFiles(settings, facts, emqxTlsLayout).files, emqxConfigFile(settings, { version: wantedEmqxVersion(settings, null).version, nodeName: chooseNodeName(settings, null), cookie }), review];
}
