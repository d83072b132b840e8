package io.ambit.waypoint.testing;

/** The policies most tests run with: httpbin admits only sleep; nobody reaches /admin or sends x-user: admin. */
public final class Policies {
    private Policies() {}

    public static final String BASIC = """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: httpbin-allow-sleep, namespace: default}
            spec:
              targetRefs: [{kind: Service, group: "", name: httpbin}]
              action: ALLOW
              rules:
              - from: [{source: {principals: ["cluster.local/ns/default/sa/sleep"]}}]
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-admin, namespace: default}
            spec:
              targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
              action: DENY
              rules:
              - to: [{operation: {paths: ["/admin", "/admin/*"]}}]
              - when: [{key: "request.headers[x-user]", values: ["admin"]}]
            """;
}
