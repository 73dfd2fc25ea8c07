#!/usr/bin/env bash
# Installs the real mail servers the email adapter tests run on loopback:
# Dovecot (IMAP with IDLE, LMTP) and Postfix (SMTP), plus openssl. Idempotent and quick when
# everything is already there. Needs root (or passwordless sudo) on Debian 12.
# The packages' own system services are never started: tests run their own
# instances from temporary configs.
set -euo pipefail

# openssl: the tests issue a throw-away CA and server certificate with it.
packages=(dovecot-imapd dovecot-lmtpd postfix openssl)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-mail-servers: already installed: ${packages[*]}"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo -n"
fi

echo "install-mail-servers: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks which kind of mail system it is; the tests bring their own config.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
echo "postfix postfix/mailname string localhost" | $SUDO debconf-set-selections

# Keep the distribution's services from starting during installation (no systemd
# here, and we do not want a system Postfix/Dovecot on the standard ports).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    created_policy=1
fi
cleanup() {
    if [ "$created_policy" -eq 1 ]; then $SUDO rm -f "$policy"; fi
}
trap cleanup EXIT

if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

for bin in /usr/sbin/dovecot /usr/sbin/postfix; do
    [ -x "$bin" ] || { echo "install-mail-servers: $bin missing after install" >&2; exit 1; }
done
echo "install-mail-servers: done"
