#!/usr/bin/env bash
# Writes prometheus-rule.yaml (PrometheusRule for the Prometheus Operator) from prometheus-rules.yaml
# (the plain rules file), so the two never diverge. The deploy module's tests compare them.
#   generate-prometheusrule.sh [OUT]    (default: prometheus-rule.yaml beside this script)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/prometheus-rule.yaml}"
{
  cat <<'EOF'
# The same alerts as prometheus-rules.yaml, for the Prometheus Operator. spec.groups must stay equal to
# that file's groups (the deploy module's tests compare them); edit both, or regenerate this one with
#   deploy/observability/generate-prometheusrule.sh
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: ambit-alerts
  namespace: istio-system
  labels:
    app.kubernetes.io/name: ambit
    app.kubernetes.io/component: alerts
    # kube-prometheus-stack's default ruleSelector picks rules labelled with its release name
    release: prometheus
spec:
EOF
  sed -n '/^groups:/,$p' "$here/prometheus-rules.yaml" | sed 's/^\(.\)/  \1/'
} > "$out.tmp"
mv "$out.tmp" "$out"
