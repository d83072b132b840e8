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
# What it does (TCP, for IPv4 with iptables and, in a dual-stack pod, for IPv6 with ip6tables):
#   outbound  nat OUTPUT: every new TCP connection the app opens is REDIRECTed to ztunnel's 15001 (which
#             reads the original destination with SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST), except
#               - ztunnel's own sockets: they carry SO_MARK 0x539 (mask 0xfff),
#               - loopback: 127.0.0.1 / ::1, and anything leaving through lo (the pod calling itself),
#               - replies of TPROXY'd connections (mark 0x111), and the kubelet probe address.
#   inbound   mangle PREROUTING: TCP arriving for port 15008 goes to ztunnel's HBONE listener, any other
#             port to its plaintext listener 15006, both by TPROXY (the socket keeps the original
#             destination as its local address) with mark 0x111; packets of established connections
#             and ztunnel's own (mark 0x539) pass.
#   routing   `ip rule fwmark 0x111/0xfff lookup 100` + `local 0.0.0.0/0 dev lo table 100` (and
#             `ip -6 rule ...` + `local ::/0 dev lo table 100`): TPROXY'd packets are delivered locally.
#   original source  ztunnel connects to the app from the client's IP (IP_TRANSPARENT). Its SYN is
#             marked 0x539, so PREROUTING sets connmark 0x111; mangle OUTPUT restores that mark on the
#             app's answers, and the rule above routes them back to ztunnel instead of out of the pod.
#   probes    169.254.7.127 (IPv6: fd16:9254:7127:1337:ffff:ffff:ffff:ffff), the addresses istio-cni
#             SNATs kubelet probes to, bypass capture both ways.
#   DNS       nat OUTPUT, first: the app's DNS queries to any nameserver on port 53 (UDP not leaving
#             through lo, TCP not to 127.0.0.1 / ::1) are REDIRECTed to ztunnel's DNS proxy on the pod's
#             127.0.0.1:15053 (IPv6: [::1]:15053), which answers mesh names and forwards the rest; its own
#             upstream queries carry the mark 0x539 and pass. On by default; AMBIT_DNS_CAPTURE=false leaves
#             DNS alone (what the pod annotation ambient.istio.io/dns-capture: "false" does with istio-cni).
#   IPv6      the same rules with ip6tables (::1 for 127.0.0.1, `ip -6 rule`/`ip -6 route`), as istio-cni
#             installs them when IPv6 is enabled: AMBIT_IPV6=auto (the default) when the pod has a global
#             IPv6 address (`ip -6 addr show scope global`; ULAs count), AMBIT_IPV6=true always,
#             AMBIT_IPV6=false never. Without them a dual-stack pod's IPv6 traffic would bypass the mesh in
#             plaintext. --remove takes out both families whatever AMBIT_IPV6 says.
#
# Environment overrides: AMBIT_OUTBOUND_PORT (15001), AMBIT_INBOUND_PORT (15008),
# AMBIT_PLAINTEXT_PORT (15006), AMBIT_DNS_PORT (15053), AMBIT_DNS_CAPTURE (true), AMBIT_IPV6 (auto),
# AMBIT_PROBE_IP (169.254.7.127), AMBIT_PROBE_IP6 (fd16:9254:7127:1337:ffff:ffff:ffff:ffff),
# AMBIT_ROUTE_TABLE (100), IPTABLES (iptables) and IP6TABLES (ip6tables): either the nft or the legacy
# backend, whichever the pod's kernel uses.
set -euo pipefail

OUTBOUND_PORT="${AMBIT_OUTBOUND_PORT:-15001}"
INBOUND_PORT="${AMBIT_INBOUND_PORT:-15008}"
PLAINTEXT_PORT="${AMBIT_PLAINTEXT_PORT:-15006}"
DNS_PORT="${AMBIT_DNS_PORT:-15053}"
DNS_CAPTURE="${AMBIT_DNS_CAPTURE:-true}"
IPV6="${AMBIT_IPV6:-auto}"
PROBE_IP4="${AMBIT_PROBE_IP:-169.254.7.127}"
PROBE_IP6="${AMBIT_PROBE_IP6:-fd16:9254:7127:1337:ffff:ffff:ffff:ffff}"
TABLE="${AMBIT_ROUTE_TABLE:-100}"
IPT4="${IPTABLES:-iptables}"
IPT6="${IP6TABLES:-ip6tables}"
ZTUNNEL_MARK="0x539/0xfff" # SO_MARK 1337 on every ztunnel socket
TPROXY_MARK="0x111/0xfff"  # packets TPROXY'd to ztunnel, and the app's answers to ztunnel's own connections

# The family the functions below work on; set by family().
IPT="" IP="" LOOPBACK="" PROBE="" ANY=""

family() { # 4 or 6
  if [ "$1" = 4 ]; then
    IPT="$IPT4" IP="ip -4" LOOPBACK="127.0.0.1/32" PROBE="$PROBE_IP4/32" ANY="0.0.0.0/0"
  else
    IPT="$IPT6" IP="ip -6" LOOPBACK="::1/128" PROBE="$PROBE_IP6/128" ANY="::/0"
  fi
}

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

install() { # for the family set by family()
  chain mangle AMBIT_PRERT PREROUTING
  ipt -t mangle -A AMBIT_PRERT -m mark --mark "$ZTUNNEL_MARK" -j CONNMARK --set-xmark "$TPROXY_MARK"
  ipt -t mangle -A AMBIT_PRERT -s "$PROBE" -p tcp -j ACCEPT
  ipt -t mangle -A AMBIT_PRERT ! -d "$LOOPBACK" -i lo -p tcp -j ACCEPT
  ipt -t mangle -A AMBIT_PRERT -p tcp --dport "$INBOUND_PORT" -m mark ! --mark "$ZTUNNEL_MARK" \
    -j TPROXY --on-port "$INBOUND_PORT" --tproxy-mark "$TPROXY_MARK"
  ipt -t mangle -A AMBIT_PRERT -p tcp -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  ipt -t mangle -A AMBIT_PRERT ! -d "$LOOPBACK" -p tcp -m mark ! --mark "$ZTUNNEL_MARK" \
    -j TPROXY --on-port "$PLAINTEXT_PORT" --tproxy-mark "$TPROXY_MARK"

  chain mangle AMBIT_OUTPUT OUTPUT
  ipt -t mangle -A AMBIT_OUTPUT -m connmark --mark "$TPROXY_MARK" \
    -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff

  chain nat AMBIT_OUTPUT OUTPUT
  if [ "$DNS_CAPTURE" = true ]; then
    # REDIRECT in OUTPUT rewrites the destination to the loopback of the packet's family: 127.0.0.1 or ::1
    ipt -t nat -A AMBIT_OUTPUT ! -o lo -p udp -m udp --dport 53 -m mark ! --mark "$ZTUNNEL_MARK" \
      -j REDIRECT --to-ports "$DNS_PORT"
    ipt -t nat -A AMBIT_OUTPUT ! -d "$LOOPBACK" -p tcp -m tcp --dport 53 -m mark ! --mark "$ZTUNNEL_MARK" \
      -j REDIRECT --to-ports "$DNS_PORT"
  fi
  ipt -t nat -A AMBIT_OUTPUT -d "$PROBE" -p tcp -j ACCEPT
  ipt -t nat -A AMBIT_OUTPUT -p tcp -m mark --mark "$TPROXY_MARK" -j ACCEPT
  ipt -t nat -A AMBIT_OUTPUT ! -d "$LOOPBACK" -o lo -j ACCEPT
  ipt -t nat -A AMBIT_OUTPUT ! -d "$LOOPBACK" -p tcp -m mark ! --mark "$ZTUNNEL_MARK" \
    -j REDIRECT --to-ports "$OUTBOUND_PORT"

  $IP route replace local "$ANY" dev lo table "$TABLE"
  local rules
  rules="$($IP rule show)" # read whole: `ip rule | grep -q` can fail on SIGPIPE under pipefail
  case "$rules" in
    *"fwmark $TPROXY_MARK lookup $TABLE"*) ;;
    *) $IP rule add fwmark "$TPROXY_MARK" pref 32764 lookup "$TABLE" ;;
  esac
}

remove() { # for the family set by family()
  unchain mangle AMBIT_PRERT PREROUTING
  unchain mangle AMBIT_OUTPUT OUTPUT
  unchain nat AMBIT_OUTPUT OUTPUT
  local i
  for i in 1 2 3 4 5 6 7 8; do
    $IP rule del fwmark "$TPROXY_MARK" lookup "$TABLE" 2>/dev/null || break
  done
  $IP route del local "$ANY" dev lo table "$TABLE" 2>/dev/null || true
}

# Whether this run covers IPv6: AMBIT_IPV6, and for auto the pod's addresses.
ipv6_wanted() {
  case "$IPV6" in
    true) return 0 ;;
    false) return 1 ;;
  esac
  local global
  global="$(ip -6 -o addr show scope global 2>/dev/null || true)" # no IPv6 in the kernel: none
  [ -n "$global" ]
}

# Checked before any change, so that a refusal leaves the pod as it was (not captured for IPv4 only).
ipv6_usable() {
  if ! command -v "$IPT6" >/dev/null 2>&1; then
    echo "ambit-inpod-redirect.sh: IPv6 capture needs \"$IPT6\", which is not installed (expected: ip6tables" \
      "from the iptables package, or IP6TABLES naming it; AMBIT_IPV6=false leaves IPv6 alone)" >&2
    exit 2
  fi
  local disabled
  disabled="$(cat /proc/sys/net/ipv6/conf/lo/disable_ipv6 2>/dev/null || echo 1)" # no file: no IPv6 in the kernel
  if [ "$disabled" != 0 ]; then
    echo "ambit-inpod-redirect.sh: AMBIT_IPV6=$IPV6 but IPv6 is disabled in this network namespace" \
      "(net.ipv6.conf.lo.disable_ipv6 is not 0, or the kernel has no IPv6; expected: IPv6 on, or AMBIT_IPV6=auto" \
      "or false)" >&2
    exit 2
  fi
}

case "$DNS_CAPTURE" in
  true|false) ;;
  *) echo "ambit-inpod-redirect.sh: AMBIT_DNS_CAPTURE is \"$DNS_CAPTURE\" (expected: true or false)" >&2; exit 2 ;;
esac
case "$IPV6" in
  auto|true|false) ;;
  *) echo "ambit-inpod-redirect.sh: AMBIT_IPV6 is \"$IPV6\" (expected: auto, true or false)" >&2; exit 2 ;;
esac

case "${1:-}" in
  "")
    v6=false
    if ipv6_wanted; then
      ipv6_usable
      v6=true
    fi
    family 4
    install
    if [ "$v6" = true ]; then
      family 6
      install
    else
      # a reinstall with IPv6 off (AMBIT_IPV6=false, or the pod lost its address) must not keep old IPv6 rules
      if command -v "$IPT6" >/dev/null 2>&1; then
        family 6
        remove
      fi
    fi
    ;;
  --remove)
    family 4
    remove
    if command -v "$IPT6" >/dev/null 2>&1; then # rules of ours can only be there if the tool is
      family 6
      remove
    fi
    ;;
  -h|--help) usage ;;
  *) echo "ambit-inpod-redirect.sh: unknown argument \"$1\" (expected: nothing, --remove or --help)" >&2; exit 2 ;;
esac
