#!/usr/bin/env bash
# ambit-inpod-redirect.sh — the traffic capture a CNI agent installs inside a pod's network namespace so
# that Ambit's ztunnel (in-pod mode, like Istio's) proxies the pod: the same rules istio-cni installs for
# ztunnel (see ../ARCHITECTURE.md, ztunnel-reference.md §1.3).
#
# Run it INSIDE the pod's network namespace, as root (CAP_NET_ADMIN there):
#   ip netns exec POD scripts/ambit-inpod-redirect.sh            # install; running it again changes nothing
#   ip netns exec POD scripts/ambit-inpod-redirect.sh --remove   # take it all out again
#   scripts/ambit-inpod-redirect.sh --help
#
# What it does (IPv4, TCP):
#   outbound  nat OUTPUT: every new TCP connection the app opens is REDIRECTed to ztunnel's 15001 (which
#             reads the original destination with SO_ORIGINAL_DST), except
#               - ztunnel's own sockets: they carry SO_MARK 0x539 (mask 0xfff),
#               - loopback: 127.0.0.1, and anything leaving through lo (the pod calling itself),
#               - replies of TPROXY'd connections (mark 0x111), and the kubelet probe address.
#   inbound   mangle PREROUTING: TCP arriving for port 15008 goes to ztunnel's HBONE listener, any other
#             port to its plaintext listener 15006, both by TPROXY (the socket keeps the original
#             destination as its local address) with mark 0x111; packets of established connections
#             and ztunnel's own (mark 0x539) pass.
#   routing   `ip rule fwmark 0x111/0xfff lookup 100` + `local 0.0.0.0/0 dev lo table 100`: TPROXY'd
#             packets are delivered locally.
#   original source  ztunnel connects to the app from the client's IP (IP_TRANSPARENT). Its SYN is
#             marked 0x539, so PREROUTING sets connmark 0x111; mangle OUTPUT restores that mark on the
#             app's answers, and the rule above routes them back to ztunnel instead of out of the pod.
#   probes    169.254.7.127 (the address istio-cni SNATs kubelet probes to) bypasses capture both ways.
#   DNS       nat OUTPUT, first: the app's DNS queries to any nameserver on port 53 (UDP not leaving
#             through lo, TCP not to 127.0.0.1) are REDIRECTed to ztunnel's DNS proxy on the pod's
#             127.0.0.1:15053, which answers mesh names and forwards the rest; its own upstream queries
#             carry the mark 0x539 and pass. On by default; AMBIT_DNS_CAPTURE=false leaves DNS alone (what
#             the pod annotation ambient.istio.io/dns-capture: "false" does with istio-cni).
#
# Environment overrides: AMBIT_OUTBOUND_PORT (15001), AMBIT_INBOUND_PORT (15008),
# AMBIT_PLAINTEXT_PORT (15006), AMBIT_DNS_PORT (15053), AMBIT_DNS_CAPTURE (true),
# AMBIT_PROBE_IP (169.254.7.127), AMBIT_ROUTE_TABLE (100),
# IPTABLES (iptables: either the nft or the legacy backend, whichever the pod's kernel uses).
set -euo pipefail

OUTBOUND_PORT="${AMBIT_OUTBOUND_PORT:-15001}"
INBOUND_PORT="${AMBIT_INBOUND_PORT:-15008}"
PLAINTEXT_PORT="${AMBIT_PLAINTEXT_PORT:-15006}"
DNS_PORT="${AMBIT_DNS_PORT:-15053}"
DNS_CAPTURE="${AMBIT_DNS_CAPTURE:-true}"
PROBE_IP="${AMBIT_PROBE_IP:-169.254.7.127}"
TABLE="${AMBIT_ROUTE_TABLE:-100}"
IPT="${IPTABLES:-iptables}"
ZTUNNEL_MARK="0x539/0xfff" # SO_MARK 1337 on every ztunnel socket
TPROXY_MARK="0x111/0xfff"  # packets TPROXY'd to ztunnel, and the app's answers to ztunnel's own connections

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

ipt() { "$IPT" -w 10 "$@"; }

# A chain of ours, created empty (or emptied), hooked once into a built-in chain.
chain() { # table chain builtin
  ipt -t "$1" -N "$2" 2>/dev/null || ipt -t "$1" -F "$2"
  ipt -t "$1" -C "$3" -j "$2" 2>/dev/null || ipt -t "$1" -A "$3" -j "$2"
}

unchain() { # table chain builtin
  local i
  for i in 1 2 3 4 5 6 7 8; do # bounded: one hook per install, a few if someone installed by hand
    ipt -t "$1" -D "$3" -j "$2" 2>/dev/null || break
  done
  ipt -t "$1" -F "$2" 2>/dev/null || true
  ipt -t "$1" -X "$2" 2>/dev/null || true
}

install() {
  chain mangle AMBIT_PRERT PREROUTING
  ipt -t mangle -A AMBIT_PRERT -m mark --mark "$ZTUNNEL_MARK" -j CONNMARK --set-xmark "$TPROXY_MARK"
  ipt -t mangle -A AMBIT_PRERT -s "$PROBE_IP/32" -p tcp -j ACCEPT
  ipt -t mangle -A AMBIT_PRERT ! -d 127.0.0.1/32 -i lo -p tcp -j ACCEPT
  ipt -t mangle -A AMBIT_PRERT -p tcp --dport "$INBOUND_PORT" -m mark ! --mark "$ZTUNNEL_MARK" \
    -j TPROXY --on-port "$INBOUND_PORT" --tproxy-mark "$TPROXY_MARK"
  ipt -t mangle -A AMBIT_PRERT -p tcp -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  ipt -t mangle -A AMBIT_PRERT ! -d 127.0.0.1/32 -p tcp -m mark ! --mark "$ZTUNNEL_MARK" \
    -j TPROXY --on-port "$PLAINTEXT_PORT" --tproxy-mark "$TPROXY_MARK"

  chain mangle AMBIT_OUTPUT OUTPUT
  ipt -t mangle -A AMBIT_OUTPUT -m connmark --mark "$TPROXY_MARK" \
    -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff

  chain nat AMBIT_OUTPUT OUTPUT
  if [ "$DNS_CAPTURE" = true ]; then
    ipt -t nat -A AMBIT_OUTPUT ! -o lo -p udp -m udp --dport 53 -m mark ! --mark "$ZTUNNEL_MARK" \
      -j REDIRECT --to-ports "$DNS_PORT"
    ipt -t nat -A AMBIT_OUTPUT ! -d 127.0.0.1/32 -p tcp -m tcp --dport 53 -m mark ! --mark "$ZTUNNEL_MARK" \
      -j REDIRECT --to-ports "$DNS_PORT"
  fi
  ipt -t nat -A AMBIT_OUTPUT -d "$PROBE_IP/32" -p tcp -j ACCEPT
  ipt -t nat -A AMBIT_OUTPUT -p tcp -m mark --mark "$TPROXY_MARK" -j ACCEPT
  ipt -t nat -A AMBIT_OUTPUT ! -d 127.0.0.1/32 -o lo -j ACCEPT
  ipt -t nat -A AMBIT_OUTPUT ! -d 127.0.0.1/32 -p tcp -m mark ! --mark "$ZTUNNEL_MARK" \
    -j REDIRECT --to-ports "$OUTBOUND_PORT"

  ip route replace local 0.0.0.0/0 dev lo table "$TABLE"
  local rules
  rules="$(ip rule show)" # read whole: `ip rule | grep -q` can fail on SIGPIPE under pipefail
  case "$rules" in
    *"fwmark $TPROXY_MARK lookup $TABLE"*) ;;
    *) ip rule add fwmark "$TPROXY_MARK" pref 32764 lookup "$TABLE" ;;
  esac
}

remove() {
  unchain mangle AMBIT_PRERT PREROUTING
  unchain mangle AMBIT_OUTPUT OUTPUT
  unchain nat AMBIT_OUTPUT OUTPUT
  local i
  for i in 1 2 3 4 5 6 7 8; do
    ip rule del fwmark "$TPROXY_MARK" lookup "$TABLE" 2>/dev/null || break
  done
  ip route del local 0.0.0.0/0 dev lo table "$TABLE" 2>/dev/null || true
}

case "$DNS_CAPTURE" in
  true|false) ;;
  *) echo "ambit-inpod-redirect.sh: AMBIT_DNS_CAPTURE is \"$DNS_CAPTURE\" (expected: true or false)" >&2; exit 2 ;;
esac

case "${1:-}" in
  "") install ;;
  --remove) remove ;;
  -h|--help) usage ;;
  *) echo "ambit-inpod-redirect.sh: unknown argument \"$1\" (expected: nothing, --remove or --help)" >&2; exit 2 ;;
esac
