#!/bin/bash
# Start a throwaway Dovecot (IMAP + POP3) on 127.0.0.1 in the background, for
# benchmarks and manual tests (the Go tests use internal/testenv instead).
# usage: scripts/dovecot-start.sh DIR [PORT_BASE]
#   Ports: PORT_BASE+0 IMAP (STARTTLS), +1 IMAPS, +2 POP3 (STLS), +3 POP3S; default base 10143.
#   Users: DIR/users (passwd-file; written with alice/alicepass and bob/bobpass when
#   missing). A user line may give its own uid ("name:{PLAIN}pw:20001:65534::::"),
#   otherwise mail belongs to nobody. Mail in DIR/mail/USER/Maildir; CA: DIR/tls/cert.pem.
#   Limits are raised for many concurrent IDLE connections per user and in total.
# Prints the master PID; it is also in DIR/run/dovecot.pid. Stop: kill "$(cat DIR/run/dovecot.pid)".
# Needs: dovecot-imapd dovecot-pop3d openssl.
set -euo pipefail
D=$(mkdir -p "$1" && cd "$1" && pwd); B=${2:-10143}
P_IMAP=$B P_IMAPS=$((B+1)) P_POP3=$((B+2)) P_POP3S=$((B+3))
mkdir -p "$D/run" "$D/state" "$D/log" "$D/tls" "$D/mail"
# Dovecot's auth and mail processes run as other users: every folder above DIR
# must be traversable (mktemp -d makes 0700 folders).
d=$D; while [ "$d" != / ]; do [ -O "$d" ] && chmod o+x "$d"; d=$(dirname "$d"); done
if [ -s "$D/run/dovecot.pid" ] && kill -0 "$(cat "$D/run/dovecot.pid")" 2>/dev/null; then
  cat "$D/run/dovecot.pid"; exit 0
fi
for p in $P_IMAP $P_IMAPS $P_POP3 $P_POP3S; do   # another server there would answer in our stead
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "port $p is in use: pick another PORT_BASE" >&2; exit 1; fi
done
if [ ! -s "$D/tls/cert.pem" ]; then   # Go verifies the IP SAN when dialing 127.0.0.1
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
    -keyout "$D/tls/key.pem" -out "$D/tls/cert.pem" 2>/dev/null
fi
[ -s "$D/users" ] || printf 'alice:{PLAIN}alicepass::::::\nbob:{PLAIN}bobpass::::::\n' > "$D/users"
# Dovecot refuses to access mail as uid 0: mail belongs to the user's uid, or nobody.
while IFS=: read -r u _ uid gid _; do
  [ -n "$u" ] || continue
  mkdir -p "$D/mail/$u/Maildir/cur" "$D/mail/$u/Maildir/new" "$D/mail/$u/Maildir/tmp"
  chown "${uid:-nobody}:${gid:-nogroup}" "$D/mail/$u" "$D/mail/$u/Maildir" "$D/mail/$u/Maildir/"{cur,new,tmp}
done < "$D/users"
cat > "$D/dovecot.conf" <<CONF
protocols = imap pop3
listen = 127.0.0.1
base_dir = $D/run
state_dir = $D/state
instance_name = ms-dovecot-$B
log_path = $D/log/dovecot.log
ssl = yes
ssl_cert = <$D/tls/cert.pem
ssl_key = <$D/tls/key.pem
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $D/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $D/users
  default_fields = uid=nobody gid=nogroup home=$D/mail/%u
}
mail_location = maildir:~/Maildir
first_valid_uid = 500
pop3_uidl_format = %08Xu%08Xv
# Many IDLE connections per user (one per folder) and in total.
mail_max_userip_connections = 1000
default_process_limit = 1000
default_client_limit = 5000
service imap-login {
  inet_listener imap {
    port = $P_IMAP
  }
  inet_listener imaps {
    port = $P_IMAPS
    ssl = yes
  }
  # High-performance mode: a few login processes proxy every TLS connection.
  service_count = 0
  process_min_avail = 2
}
service pop3-login {
  inet_listener pop3 {
    port = $P_POP3
  }
  inet_listener pop3s {
    port = $P_POP3S
    ssl = yes
  }
  service_count = 0
  process_min_avail = 2
}
service imap {
  process_limit = 1000
}
service pop3 {
  process_limit = 1000
}
CONF
doveconf -c "$D/dovecot.conf" -n >/dev/null
dovecot -F -c "$D/dovecot.conf" </dev/null >>"$D/log/dovecot.stdout" 2>&1 &
PID=$!; echo "$PID" > "$D/run/dovecot.pid"
for _ in $(seq 100); do
  ok=1
  for p in $P_IMAP $P_IMAPS $P_POP3 $P_POP3S; do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { ok=0; break; }
  done
  [ $ok = 1 ] && { echo "$PID"; exit 0; }
  kill -0 "$PID" 2>/dev/null || { echo "dovecot exited; see $D/log/" >&2; tail -5 "$D/log/dovecot.log" >&2 || true; exit 1; }
  sleep 0.1
done
echo "dovecot did not open its ports in 10 s" >&2; kill "$PID"; exit 1
