package io.ambit.xds.kube;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * One kind of object the waypoint lists and watches, and where the API server serves it.
 *
 * @param group the API group, empty for the core group ({@code ConfigMap})
 * @param version e.g. {@code v1}
 * @param plural the resource name in URLs, e.g. {@code authorizationpolicies}
 * @param kind e.g. {@code AuthorizationPolicy}
 * @param namespace only this namespace, or null for all
 * @param name only the object of this name (a field selector), or null for all
 * @param optional whether a missing resource (its CRD not installed: 404) means "none" rather than an error
 */
public record ApiKind(
        String group, String version, String plural, String kind, String namespace, String name, boolean optional) {

    public static final ApiKind AUTHORIZATION_POLICY =
            new ApiKind("security.istio.io", "v1", "authorizationpolicies", "AuthorizationPolicy", null, null, false);
    public static final ApiKind REQUEST_AUTHENTICATION = new ApiKind(
            "security.istio.io", "v1", "requestauthentications", "RequestAuthentication", null, null, false);
    public static final ApiKind ENVOY_FILTER =
            new ApiKind("networking.istio.io", "v1alpha3", "envoyfilters", "EnvoyFilter", null, null, false);
    /** Ambit's own CRD: absent until installed, and then simply no limits. */
    public static final ApiKind LOCAL_RATE_LIMIT =
            new ApiKind("ambit.io", "v1alpha1", "localratelimits", "LocalRateLimit", null, null, true);

    /** The policy kinds the waypoint applies, in the order they are listed at start. */
    public static final List<ApiKind> POLICIES =
            List.of(AUTHORIZATION_POLICY, REQUEST_AUTHENTICATION, ENVOY_FILTER, LOCAL_RATE_LIMIT);

    public ApiKind {
        if (version == null || version.isEmpty() || plural == null || plural.isEmpty() || kind == null) {
            throw new IllegalArgumentException("api kind: version, plural and kind are required");
        }
        group = group == null ? "" : group;
    }

    /** Istio's mesh config: the ConfigMap {@code name} in {@code namespace} (key {@code mesh}). */
    public static ApiKind meshConfigMap(String namespace, String name) {
        return new ApiKind("", "v1", "configmaps", "ConfigMap", namespace, name, true);
    }

    /** {@code group/version}, or {@code version} for the core group: what objects carry as apiVersion. */
    public String apiVersion() {
        return group.isEmpty() ? version : group + "/" + version;
    }

    /** The known kind of this name, if any. */
    public static Optional<ApiKind> policy(String kind) {
        return POLICIES.stream().filter(k -> k.kind().equals(kind)).findFirst();
    }

    /** The collection's path: {@code /apis/G/V[/namespaces/NS]/PLURAL} (core: {@code /api/V/...}). */
    String path() {
        String prefix = group.isEmpty() ? "/api/" + version : "/apis/" + group + "/" + version;
        return prefix + (namespace == null ? "" : "/namespaces/" + namespace) + "/" + plural;
    }

    /** The list or watch URL with {@code query} and this kind's field selector. */
    String url(String query) {
        var q = new StringBuilder(query);
        if (name != null) {
            q.append(q.isEmpty() ? "" : "&")
                    .append("fieldSelector=")
                    .append(URLEncoder.encode("metadata.name=" + name, StandardCharsets.UTF_8));
        }
        return path() + (q.isEmpty() ? "" : "?" + q);
    }

    @Override
    public String toString() {
        return kind + " (" + apiVersion() + ")";
    }
}
