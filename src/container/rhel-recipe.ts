// The `rhel` lab variants: a Debian rootfs that looks and behaves like Rocky Linux 9 to anything
// that asks it the way our planner does. Real: dnf 4.14, rpm 4.18, systemd, sshd, sudo, firewalld,
// the broker binaries. Stood in for by the lab: the repositories' content (RPMs built here with
// rpmbuild from Debian's binaries, indexed with createrepo_c) and the release files (os-release,
// dnf's $releasever) that a `rocky-release` stand-in package installs. No RHEL repository is
// reachable from this machine; Debian ships the same package tools at EL9's major versions.
import type { FileSpec } from './host-image.ts';

/** Two real Debian builds of Mosquitto, so a pin and an upgrade change the binaries for real. */
export const LAB_MOSQUITTO_BUILDS = [
  { debVersion: '2.0.11-1.2+deb12u1', rpmRelease: '1' },
  { debVersion: '2.0.11-1.2+deb12u2', rpmRelease: '2' },
] as const;
/** The EVR strings `rpm -q --qf '%{VERSION}-%{RELEASE}'` prints for the lab's Mosquitto RPMs, oldest first. */
export const LAB_MOSQUITTO_VERSIONS = LAB_MOSQUITTO_BUILDS.map((b) => `2.0.11-${b.rpmRelease}.el9`);

export const RHEL_PACKAGES = [
  'dnf', 'rpm', 'createrepo-c',
  // The shared libraries Debian's mosquitto binaries link against; the broker itself is not installed.
  'libcjson1', 'libmosquitto1', 'libcap2', 'libdlt2', 'libssl3', 'libsystemd0', 'libwrap0',
];

const REPOS = '/srv/lab-repos';
const BUILD = '/root/lab-build';

/** Rocky 9's os-release (what `rocky-release` installs), with the lab named in no field the planner reads. */
const OS_RELEASE = [
  'NAME="Rocky Linux"', 'VERSION="9.4 (Blue Onyx)"', 'ID="rocky"', 'ID_LIKE="rhel centos fedora"',
  'VERSION_ID="9.4"', 'PLATFORM_ID="platform:el9"', 'PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"',
  'ANSI_COLOR="0;32"', 'LOGO="fedora-logo-icon"', 'CPE_NAME="cpe:/o:rocky:rocky:9::baseos"',
  'HOME_URL="https://rockylinux.org/"', 'ROCKY_SUPPORT_PRODUCT="Rocky-Linux-9"', 'ROCKY_SUPPORT_PRODUCT_VERSION="9.4"', '',
].join('\n');

// RPM scriptlets and file lists: what rpmbuild on Debian would otherwise add (brp scripts,
// debuginfo, build-id links) is switched off, since these packages hold no compiled sources.
const SPEC_PREAMBLE = ['%global debug_package %{nil}', '%global __os_install_post %{nil}', '%define _build_id_links none', ''];

/**
 * Stands in for Rocky's rocky-release + rocky-repos: os-release, the release files, the
 * `system-release(releasever)` that dnf reads $releasever from, "disable *" presets like EL's,
 * and the BaseOS/extras repositories (local ones here).
 */
const ROCKY_RELEASE_SPEC = [
  ...SPEC_PREAMBLE,
  'Name: rocky-release', 'Version: 9.4', 'Release: 1.7.el9', 'Summary: Rocky Linux release files (lab stand-in)',
  'License: BSD-3-Clause', 'BuildArch: noarch',
  'Provides: system-release = %{version}-%{release}', 'Provides: system-release(releasever) = 9',
  'Provides: redhat-release = %{version}-%{release}', 'Provides: base-module(platform:el9)',
  '%description', 'Lab stand-in for rocky-release and rocky-repos.',
  '%install',
  'install -D -m 644 /root/lab-build/os-release %{buildroot}/usr/lib/os-release',
  'mkdir -p %{buildroot}/etc/yum.repos.d %{buildroot}/usr/lib/systemd/system-preset',
  'ln -s ../usr/lib/os-release %{buildroot}/etc/os-release',
  'echo "Rocky Linux release 9.4 (Blue Onyx)" > %{buildroot}/etc/rocky-release',
  'ln -s rocky-release %{buildroot}/etc/redhat-release', 'ln -s rocky-release %{buildroot}/etc/system-release',
  'echo "disable *" > %{buildroot}/usr/lib/systemd/system-preset/99-default-disable.preset',
  'install -m 644 /root/lab-build/rocky.repo %{buildroot}/etc/yum.repos.d/rocky.repo',
  '%files', '/usr/lib/os-release', '/etc/os-release', '/etc/rocky-release', '/etc/redhat-release', '/etc/system-release',
  '/usr/lib/systemd/system-preset/99-default-disable.preset', '%config(noreplace) /etc/yum.repos.d/rocky.repo', '',
].join('\n');

const ROCKY_REPO = [
  '[baseos]', 'name=Rocky Linux $releasever - BaseOS (lab)', `baseurl=file://${REPOS}/baseos/`, 'gpgcheck=0', 'enabled=1', '',
  '[extras]', 'name=Rocky Linux $releasever - Extras (lab)', `baseurl=file://${REPOS}/extras/`, 'gpgcheck=0', 'enabled=1', '',
].join('\n');

/**
 * The Debian base system, declared to rpm: the rpm database knows nothing of what dpkg installed,
 * so without this no RPM's scriptlet could get its /bin/sh. It provides only what the lab's RPMs
 * require, each of which the rootfs really has (Rocky gets them from bash, shadow-utils, systemd).
 */
const BASE_PROVIDES_SPEC = [
  ...SPEC_PREAMBLE,
  'Name: lab-debian-base', 'Version: 12', 'Release: 1', 'Summary: The Debian base system of this lab host, declared to rpm',
  'License: MIT', 'BuildArch: noarch',
  'Provides: /bin/sh', 'Provides: bash', 'Provides: shadow-utils', 'Provides: systemd',
  '%description', 'Lab only: declares the Debian packages the rpm database cannot see.',
  '%files', '',
].join('\n');

/** Like EPEL's own release package: one .repo file, and it needs an EL release of its major version. */
const EPEL_RELEASE_SPEC = [
  ...SPEC_PREAMBLE,
  'Name: epel-release', 'Version: 9', 'Release: 8.el9', 'Summary: Extra Packages for Enterprise Linux repository configuration (lab)',
  'License: GPL-2.0-only', 'BuildArch: noarch', 'Requires: redhat-release >= %{version}',
  '%description', 'The EPEL repository file, pointing at the lab\'s local EPEL.',
  '%install', 'install -D -m 644 /root/lab-build/epel.repo %{buildroot}/etc/yum.repos.d/epel.repo',
  '%files', '%config(noreplace) /etc/yum.repos.d/epel.repo', '',
].join('\n');

const EPEL_REPO = [
  '[epel]', 'name=Extra Packages for Enterprise Linux $releasever - $basearch (lab)',
  `baseurl=file://${REPOS}/epel/$releasever/Everything/$basearch/`, 'enabled=1', 'gpgcheck=0', '',
].join('\n');

/**
 * Laid out like Fedora/EPEL's mosquitto: binaries, the systemd unit, /etc/mosquitto with the stock
 * (all-commented) mosquitto.conf and the examples as %config(noreplace), the user created in %pre, EL's systemd
 * scriptlets. The binaries are Debian's, unpacked from its .deb (deb_root). AutoReqProv is off
 * because their libraries are Debian packages the rpm database does not know: dnf cannot check
 * them, the image installs them with apt instead. What the scriptlets need (/bin/sh, useradd,
 * systemctl) is required as Fedora's spec does and provided by lab-debian-base.
 */
const MOSQUITTO_SPEC = [
  ...SPEC_PREAMBLE,
  'Name: mosquitto', 'Version: 2.0.11', 'Release: %{lab_release}.el9', 'Summary: Open Source MQTT v3.1/v3.1.1/v5 Broker',
  'License: EPL-2.0 OR BSD-3-Clause', 'URL: https://mosquitto.org/', 'AutoReqProv: no',
  // Fedora's spec: the user is made in %pre, and the scriptlets call systemctl.
  'Requires(pre): shadow-utils', 'Requires(post): systemd', 'Requires(preun): systemd', 'Requires(postun): systemd',
  '%description', 'Mosquitto, binaries from Debian\'s mosquitto %{deb_version} (lab stand-in for EPEL\'s build).',
  '%install',
  'install -D -m 755 %{deb_root}/usr/sbin/mosquitto %{buildroot}/usr/sbin/mosquitto',
  'for b in mosquitto_passwd mosquitto_ctrl; do install -D -m 755 %{deb_root}/usr/bin/$b %{buildroot}/usr/bin/$b; done',
  'install -d -m 755 %{buildroot}/etc/mosquitto %{buildroot}/var/lib/mosquitto',
  'for f in mosquitto.conf aclfile.example pskfile.example pwfile.example; do install -m 644 %{deb_root}/usr/share/doc/mosquitto/examples/$f %{buildroot}/etc/mosquitto/$f; done',
  'install -D -m 644 /root/lab-build/mosquitto.service %{buildroot}/usr/lib/systemd/system/mosquitto.service',
  '%pre',
  'getent group mosquitto >/dev/null || groupadd -r mosquitto',
  'getent passwd mosquitto >/dev/null || useradd -r -g mosquitto -d /var/lib/mosquitto -s /sbin/nologin -c "Mosquitto Broker" mosquitto',
  'exit 0',
  // %systemd_post / %systemd_preun / %systemd_postun_with_restart as EL9 expands them.
  '%post', 'if [ $1 -eq 1 ]; then systemctl --no-reload preset mosquitto.service >/dev/null 2>&1 || :; fi',
  '%preun', 'if [ $1 -eq 0 ]; then systemctl --no-reload disable --now mosquitto.service >/dev/null 2>&1 || :; fi',
  '%postun', 'systemctl daemon-reload >/dev/null 2>&1 || :', 'if [ $1 -ge 1 ]; then systemctl try-restart mosquitto.service >/dev/null 2>&1 || :; fi',
  '%files', '/usr/sbin/mosquitto', '/usr/bin/mosquitto_passwd', '/usr/bin/mosquitto_ctrl',
  '/usr/lib/systemd/system/mosquitto.service', '%dir /etc/mosquitto', '%config(noreplace) /etc/mosquitto/mosquitto.conf',
  '%config(noreplace) /etc/mosquitto/*.example',
  '%dir %attr(0755,mosquitto,mosquitto) /var/lib/mosquitto', '',
].join('\n');

/** Mosquitto 2.0's own systemd unit (service/systemd/mosquitto.service.notify at v2.0.11). */
const MOSQUITTO_UNIT = [
  '[Unit]', 'Description=Mosquitto MQTT Broker', 'Documentation=man:mosquitto.conf(5) man:mosquitto(8)',
  'After=network.target', 'Wants=network.target', '',
  '[Service]', 'Type=notify', 'NotifyAccess=main', 'ExecStart=/usr/sbin/mosquitto -c /etc/mosquitto/mosquitto.conf',
  'ExecReload=/bin/kill -HUP $MAINPID', 'Restart=on-failure',
  'ExecStartPre=/bin/mkdir -m 740 -p /var/log/mosquitto', 'ExecStartPre=/bin/chown mosquitto /var/log/mosquitto',
  'ExecStartPre=/bin/mkdir -m 740 -p /run/mosquitto', 'ExecStartPre=/bin/chown mosquitto /run/mosquitto', '',
  '[Install]', 'WantedBy=multi-user.target', '',
].join('\n');

const BUILD_SCRIPT = `set -eu
cd ${BUILD}
apt-get update -q >/dev/null
rpmbuild() { command rpmbuild -bb --quiet --define "_topdir ${BUILD}/rpmbuild" "$@"; }
${LAB_MOSQUITTO_BUILDS.map((b) => `apt-get download -q mosquitto=${b.debVersion}
mkdir deb-${b.rpmRelease} && dpkg-deb -x mosquitto_*${b.debVersion.replace(/^.*\+/, '')}_*.deb deb-${b.rpmRelease}
rpmbuild --define "deb_root ${BUILD}/deb-${b.rpmRelease}" --define "deb_version ${b.debVersion}" --define "lab_release ${b.rpmRelease}" mosquitto.spec`).join('\n')}
rpmbuild rocky-release.spec
rpmbuild lab-debian-base.spec
rpmbuild epel-release.spec
epel=${REPOS}/epel/9/Everything/$(rpm --eval %_arch)
mkdir -p ${REPOS}/baseos ${REPOS}/extras "$epel"
cp rpmbuild/RPMS/noarch/rocky-release-*.rpm rpmbuild/RPMS/noarch/lab-debian-base-*.rpm ${REPOS}/baseos/
cp rpmbuild/RPMS/noarch/epel-release-*.rpm ${REPOS}/extras/
cp rpmbuild/RPMS/*/mosquitto-*.rpm "$epel"/
for repo in ${REPOS}/baseos ${REPOS}/extras "$epel"; do createrepo_c -q "$repo"; done
# The release and base packages go in the way an installer would put them: through rpm, so the
# rpm database knows them. Debian's rpm refuses to install while dpkg is around unless told.
rpm -i --force-debian rpmbuild/RPMS/noarch/lab-debian-base-*.rpm rpmbuild/RPMS/noarch/rocky-release-*.rpm
# Nothing on the host may answer for packages besides rpm: no dpkg database, no apt.
rm -rf /var/lib/dpkg /usr/bin/dpkg* /usr/bin/apt* /usr/lib/apt /etc/apt ${BUILD}
`;

export const RHEL_FILES: FileSpec[] = [
  { path: `${BUILD}/os-release`, mode: 0o644, content: OS_RELEASE },
  { path: `${BUILD}/rocky.repo`, mode: 0o644, content: ROCKY_REPO },
  { path: `${BUILD}/epel.repo`, mode: 0o644, content: EPEL_REPO },
  { path: `${BUILD}/rocky-release.spec`, mode: 0o644, content: ROCKY_RELEASE_SPEC },
  { path: `${BUILD}/lab-debian-base.spec`, mode: 0o644, content: BASE_PROVIDES_SPEC },
  { path: `${BUILD}/epel-release.spec`, mode: 0o644, content: EPEL_RELEASE_SPEC },
  { path: `${BUILD}/mosquitto.spec`, mode: 0o644, content: MOSQUITTO_SPEC },
  { path: `${BUILD}/mosquitto.service`, mode: 0o644, content: MOSQUITTO_UNIT },
  { path: `${BUILD}/build.sh`, mode: 0o755, content: BUILD_SCRIPT },
];

export const RHEL_STEPS: string[][] = [
  ['sh', `${BUILD}/build.sh`],
  // apt's timers would fail every day on a host without apt.
  ['systemctl', 'mask', 'apt-daily.timer', 'apt-daily-upgrade.timer'],
  // Debian's package enables firewalld on install; the `rhel-firewalld` host starts it (hosts.ts).
  ['systemctl', 'disable', 'firewalld.service'],
];
