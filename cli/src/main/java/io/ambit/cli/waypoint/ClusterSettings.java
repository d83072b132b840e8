package io.ambit.cli.waypoint;

import static io.ambit.cli.ztunnel.IstiodEnv.address;
import static io.ambit.cli.ztunnel.IstiodEnv.blankToNull;
import static io.ambit.cli.ztunnel.IstiodEnv.first;
import static io.ambit.cli.ztunnel.IstiodEnv.literal;
import static io.ambit.cli.ztunnel.IstiodEnv.prefixed;
import static io.ambit.cli.ztunnel.IstiodEnv.rootCert;
import static io.ambit.cli.ztunnel.IstiodEnv.tokenFile;

import io.ambit.cli.ca.DurationConverter;
import io.ambit.cli.ztunnel.IstiodEnv;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.xds.client.XdsSettings;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything {@code ambit waypoint} runs with in a cluster, resolved once from flags, then the pod's
 * environment (the names Istio's waypoint and ztunnel use), then defaults, and checked: a bad value is an
 * error naming the flag or variable and what was expected.
 *
 * @param xds istiod's xDS: workloads and services ({@code XDS_ADDRESS})
 * @param ca istiod's CA: this waypoint's own certificate ({@code CA_ADDRESS}, default: the xDS address)
 * @param gatewayName the Gateway this pod runs ({@code GATEWAY_NAME}, from the pod label
 *     {@code gateway.networking.k8s.io/gateway-name} through the downward API)
 * @param podName {@code POD_NAME}
 * @param namespace {@code POD_NAMESPACE}: the Gateway's namespace
 * @param serviceAccount {@code SERVICE_ACCOUNT}: with the trust domain, the waypoint's identity
 * @param instanceIp {@code INSTANCE_IP}: the pod IP (node id, upstream source address, listeners); may be empty
 * @param trustDomain {@code TRUST_DOMAIN}
 * @param domainSuffix {@code DOMAIN_SUFFIX}: the cluster's DNS suffix; the waypoint's Service is
 *     {@code GATEWAY.NAMESPACE.svc.SUFFIX}
 * @param network {@code NETWORK}: the pod's network, for its addresses
 * @param certTtl {@code SECRET_TTL}
 * @param kubeApi the API server, or null for in-cluster ({@code KUBERNETES_SERVICE_HOST}/{@code _PORT})
 * @param kubeServiceAccount the directory with the API token and {@code ca.crt}
 * @param meshConfigNamespace the namespace of Istio's mesh ConfigMap ({@code MESH_CONFIGMAP=ns/name})
 * @param meshConfigName its name
 * @param bind where the listeners go: the instance IP, else every address
 * @param metadata extra xDS node metadata ({@code ISTIO_META_*}, prefix stripped)
 */
public record ClusterSettings(
        XdsSettings xds,
        XdsSettings ca,
        String gatewayName,
        String podName,
        String namespace,
        String serviceAccount,
        String instanceIp,
        String trustDomain,
        String domainSuffix,
        String network,
        Duration certTtl,
        URI kubeApi,
        Path kubeServiceAccount,
        String meshConfigNamespace,
        String meshConfigName,
        InetAddress bind,
        Map<String, Object> metadata) {

    public static final String DEFAULT_ISTIOD = IstiodEnv.DEFAULT_ISTIOD;
    static final String DEFAULT_ROOT_CERT = "/var/run/secrets/istio/root-cert.pem";
    static final String DEFAULT_TOKEN = "/var/run/secrets/tokens/istio-token";

    /** What the command line gave; null for every option not given. */
    public record Flags(
            String xdsAddress,
            String caAddress,
            Path rootCert,
            Path tokenFile,
            String clusterId,
            String gatewayName,
            String podName,
            String namespace,
            String serviceAccount,
            String instanceIp,
            String trustDomain,
            URI kubeApi,
            Path kubeServiceAccount) {
        public static final Flags NONE =
                new Flags(null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** This waypoint's identity: {@code spiffe://TD/ns/NAMESPACE/sa/SERVICE_ACCOUNT}. */
    public SpiffeId identity() {
        return new SpiffeId(trustDomain, namespace, serviceAccount);
    }

    /** The waypoint's own Service hostname, as Istio names it after the Gateway. */
    public String serviceHostname() {
        return gatewayName + "." + namespace + ".svc." + domainSuffix;
    }

    /**
     * @throws IllegalArgumentException naming the flag or variable that is wrong and what was expected
     */
    public static ClusterSettings resolve(Flags f, Map<String, String> env) {
        String xdsText = first(f.xdsAddress(), blankToNull(env.get("XDS_ADDRESS")), DEFAULT_ISTIOD);
        String clusterId = first(
                f.clusterId(),
                blankToNull(env.get("ISTIO_META_CLUSTER_ID")),
                blankToNull(env.get("CLUSTER_ID")),
                "Kubernetes");
        Path token = tokenFile(f.tokenFile(), env, Path.of(DEFAULT_TOKEN));
        Path root = rootCert(f.rootCert(), env, "XDS_ROOT_CA", DEFAULT_ROOT_CERT);
        Path caRoot = f.rootCert() == null && blankToNull(env.get("CA_ROOT_CA")) != null
                ? rootCert(null, env, "CA_ROOT_CA", DEFAULT_ROOT_CERT)
                : root;
        var xds = XdsSettings.of(
                        address(xdsText, f.xdsAddress() != null ? "--xds-address" : "XDS_ADDRESS"),
                        root,
                        token,
                        clusterId)
                .withServerName(blankToNull(env.get("ALT_XDS_HOSTNAME")))
                .withHeaders(prefixed(env, "XDS_HEADER_"));
        String caText = first(f.caAddress(), blankToNull(env.get("CA_ADDRESS")), xdsText);
        var ca = XdsSettings.of(
                        address(caText, f.caAddress() != null ? "--ca-address" : "CA_ADDRESS"), root, token, clusterId)
                .withServerName(blankToNull(env.get("ALT_CA_HOSTNAME")))
                .withHeaders(prefixed(env, "CA_HEADER_"));
        String gateway = first(f.gatewayName(), blankToNull(env.get("GATEWAY_NAME")), "");
        if (gateway.isEmpty()) {
            throw new IllegalArgumentException("no Gateway name (expected: --gateway or GATEWAY_NAME, e.g. from the pod"
                    + " label gateway.networking.k8s.io/gateway-name through the downward API)");
        }
        String namespace = first(f.namespace(), blankToNull(env.get("POD_NAMESPACE")), "");
        if (namespace.isEmpty()) {
            throw new IllegalArgumentException(
                    "no namespace (expected: --namespace or POD_NAMESPACE, the Gateway's namespace)");
        }
        String sa = first(f.serviceAccount(), blankToNull(env.get("SERVICE_ACCOUNT")), gateway);
        String td = first(f.trustDomain(), blankToNull(env.get("TRUST_DOMAIN")), "cluster.local");
        try {
            new SpiffeId(td, namespace, sa);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("TRUST_DOMAIN/POD_NAMESPACE/SERVICE_ACCOUNT: " + e.getMessage());
        }
        String ip = first(f.instanceIp(), blankToNull(env.get("INSTANCE_IP")), "");
        InetAddress bind;
        try {
            bind = ip.isEmpty() ? InetAddress.getByName("0.0.0.0") : literal(ip);
        } catch (UnknownHostException | IllegalArgumentException e) {
            throw new IllegalArgumentException("INSTANCE_IP/--instance-ip \"" + ip + "\" (expected: an IP address)");
        }
        String ttlText = first(blankToNull(env.get("SECRET_TTL")), "24h");
        Duration ttl;
        try {
            ttl = DurationConverter.parse(ttlText);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("SECRET_TTL: " + e.getMessage());
        }
        String cm = first(blankToNull(env.get("MESH_CONFIGMAP")), "istio-system/istio");
        int slash = cm.indexOf('/');
        if (slash <= 0 || slash == cm.length() - 1 || cm.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("MESH_CONFIGMAP \"" + cm
                    + "\" (expected: namespace/name of Istio's mesh ConfigMap, e.g." + " istio-system/istio)");
        }
        var meta = new LinkedHashMap<String, Object>();
        env.forEach((k, v) -> {
            if (k.startsWith("ISTIO_META_") && k.length() > "ISTIO_META_".length()) {
                meta.put(k.substring("ISTIO_META_".length()), v);
            }
        });
        Path kubeSa = f.kubeServiceAccount() != null
                ? f.kubeServiceAccount()
                : Path.of("/var/run/secrets/kubernetes.io/serviceaccount");
        return new ClusterSettings(
                xds,
                ca,
                gateway,
                first(f.podName(), blankToNull(env.get("POD_NAME")), gateway),
                namespace,
                sa,
                ip,
                td,
                first(blankToNull(env.get("DOMAIN_SUFFIX")), "cluster.local"),
                first(blankToNull(env.get("NETWORK")), ""),
                ttl,
                f.kubeApi(),
                kubeSa,
                cm.substring(0, slash),
                cm.substring(slash + 1),
                bind,
                meta);
    }
}
