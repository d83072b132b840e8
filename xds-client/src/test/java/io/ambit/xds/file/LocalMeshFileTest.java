package io.ambit.xds.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.match.IpAddress;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.mesh.GatewayAddress;
import io.ambit.xds.mesh.LoadBalancing;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NamespacedHostname;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Port;
import io.ambit.xds.mesh.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LocalMeshFileTest {
    static final String VALID = """
            mesh: {rootNamespace: istio-system, trustDomain: example.org}
            workloads:
            - uid: c1//Pod/default/web-1
              name: web-1
              namespace: default
              serviceAccount: web
              workloadIps: ["127.0.1.1", "::1"]
              node: node-a
              labels: {app: web}
              canonicalName: web
              canonicalRevision: v2
              services: {"default/web.default.svc": {80: 8080}, "default/admin.default.svc": {9000: 9001}}
              capacity: 3
            - name: db
              namespace: data
              workloadIps: ["127.0.2.1"]
              node: node-b
              network: net2
              status: Unhealthy
              protocol: TCP
              waypoint: {destination: {hostname: {namespace: default, hostname: waypoint.default.svc}}}
            services:
            - name: web
              namespace: default
              hostname: web.default.svc
              vips: ["/127.10.0.1", "net2/127.10.0.1"]
              ports: {80: 8080}
              subjectAltNames: ["spiffe://example.org/ns/default/sa/web"]
              loadBalancer: {routingPreferences: [Node, Zone], mode: Failover, healthPolicy: AllowAll}
            - name: admin
              namespace: default
              hostname: admin.default.svc
              vips: ["/127.10.0.2"]
              ports: {9000: 9001}
              waypoint: {destination: {address: "/127.0.9.9"}, hboneMtlsPort: 15009}
            - {name: waypoint, namespace: default, hostname: waypoint.default.svc}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: web-allow, namespace: default}
            spec:
              selector: {matchLabels: {app: web}}
              action: ALLOW
              rules: [{from: [{source: {principals: ["example.org/ns/default/sa/client"]}}]}]
            """;

    @Test
    void aValidFileGivesAnIndexedSnapshot() throws Exception {
        var state = LocalMeshFile.parse(VALID, "mesh.yaml");

        var web = state.workload(IpAddress.parse("127.0.1.1")).orElseThrow();
        assertThat(web.uid()).isEqualTo("c1//Pod/default/web-1");
        assertThat(state.workload(IpAddress.parse("::1"))).contains(web);
        assertThat(web.identity().principal()).isEqualTo("example.org/ns/default/sa/web");
        assertThat(web.trustDomain()).isEqualTo("example.org");
        assertThat(web.labels()).isEqualTo(Map.of("app", "web"));
        assertThat(web.canonicalRevision()).isEqualTo("v2");
        assertThat(web.capacity()).isEqualTo(3);
        assertThat(web.protocol()).isEqualTo(Workload.Protocol.HBONE);
        assertThat(web.status()).isEqualTo(Workload.Status.HEALTHY);
        assertThat(web.targetPort(new NamespacedHostname("default", "web.default.svc"), 80))
                .isEqualTo(8080);
        assertThat(state.servicesOf(web)).extracting(s -> s.name()).containsExactly("web", "admin");

        var svc = state.serviceByVip(IpAddress.parse("127.10.0.1")).orElseThrow();
        assertThat(svc.hostname()).isEqualTo("web.default.svc");
        assertThat(state.serviceByVip(new NetworkAddress("net2", IpAddress.parse("127.10.0.1"))))
                .contains(svc);
        assertThat(svc.ports()).containsExactly(new Port(80, 8080));
        assertThat(svc.subjectAltNames()).containsExactly("spiffe://example.org/ns/default/sa/web");
        assertThat(svc.loadBalancing())
                .isEqualTo(new LoadBalancing(
                        List.of(LoadBalancing.Scope.NODE, LoadBalancing.Scope.ZONE),
                        LoadBalancing.Mode.FAILOVER,
                        LoadBalancing.HealthPolicy.ALLOW_ALL));
        assertThat(state.endpoints(svc)).containsExactly(web);

        var admin = state.service(new NamespacedHostname("default", "admin.default.svc"))
                .orElseThrow();
        assertThat(admin.waypoint()).isEqualTo(new GatewayAddress(NetworkAddress.parse("/127.0.9.9"), null, 15009));

        // db is on net2: its IP is not on the default network
        assertThat(state.workload(IpAddress.parse("127.0.2.1"))).isEmpty();
        var db = state.workload(new NetworkAddress("net2", IpAddress.parse("127.0.2.1")))
                .orElseThrow();
        assertThat(db.uid()).isEqualTo("Kubernetes//Pod/data/db");
        assertThat(db.serviceAccount()).isEqualTo("default");
        assertThat(db.status()).isEqualTo(Workload.Status.UNHEALTHY);
        assertThat(db.protocol()).isEqualTo(Workload.Protocol.TCP);
        assertThat(db.waypoint().hostname()).isEqualTo(new NamespacedHostname("default", "waypoint.default.svc"));
        assertThat(db.waypoint().hboneMtlsPort()).isEqualTo(15008);
        assertThat(db.capacity()).isEqualTo(1);

        assertThat(state.mesh().trustDomain()).isEqualTo("example.org");
        assertThat(state.policies().policies().authorizationPolicies()).hasSize(1);
        assertThat(allowed(state, web, "example.org/ns/default/sa/client")).isTrue();
        assertThat(allowed(state, web, "example.org/ns/default/sa/other")).isFalse();
        assertThat(state.origin()).isEqualTo("mesh.yaml");
    }

    /**
     * Without canonicalName/canonicalRevision, a workload gets them as istiod derives them for a pod: the
     * canonical-name label, then app.kubernetes.io/name, then app, then the workload (owner) name; the
     * revision from canonical-revision, app.kubernetes.io/version, version, else "latest". Metrics and
     * baggage carry these, so dashboards see the same service names as with istiod.
     */
    @Test
    void canonicalNameAndRevisionAreDerivedFromLabelsAsIstiodDoes() throws Exception {
        var state = LocalMeshFile.parse("""
                workloads:
                - {name: a-1, namespace: ns, workloadIps: ["127.0.3.1"],
                   labels: {app: a, service.istio.io/canonical-name: a-canonical, version: v1}}
                - {name: b-1, namespace: ns, workloadIps: ["127.0.3.2"],
                   labels: {app: b-app, app.kubernetes.io/name: b, app.kubernetes.io/version: "2.0", version: v9}}
                - {name: c-1, namespace: ns, workloadIps: ["127.0.3.3"], labels: {app: c}}
                - {name: d-7f9c-xk2p, workloadName: d, namespace: ns, workloadIps: ["127.0.3.4"]}
                - {name: e-1, namespace: ns, workloadIps: ["127.0.3.5"], labels: {app: e},
                   canonicalName: e-explicit, canonicalRevision: r5}
                """, "mesh.yaml");

        assertThat(canonical(state, "127.0.3.1")).containsExactly("a-canonical", "v1");
        assertThat(canonical(state, "127.0.3.2")).containsExactly("b", "2.0");
        assertThat(canonical(state, "127.0.3.3")).containsExactly("c", "latest");
        assertThat(canonical(state, "127.0.3.4")).containsExactly("d", "latest");
        assertThat(canonical(state, "127.0.3.5")).containsExactly("e-explicit", "r5");
    }

    private static List<String> canonical(MeshState state, String ip) {
        Workload w = state.workload(IpAddress.parse(ip)).orElseThrow();
        return List.of(w.canonicalName(), w.canonicalRevision());
    }

    @Test
    void theQuickstartExampleLoadsAndItsPoliciesDecide() throws Exception {
        var file = Path.of("../examples/quickstart-mesh.yaml");
        // its LocalRateLimit is read by the waypoint module's extension, not installed in this module's tests
        String withoutLimits = java.util.Arrays.stream(Files.readString(file).split("\n---\n"))
                .filter(doc -> !doc.contains("\nkind: LocalRateLimit\n"))
                .collect(java.util.stream.Collectors.joining("\n---\n"));
        var state = LocalMeshFile.parse(withoutLimits, file.toString());

        assertThat(state.workloads()).hasSize(8);
        assertThat(state.workloads()).extracting(Workload::node).containsOnly("node-a", "node-b");
        assertThat(state.workloads()).extracting(Workload::namespace).containsOnly("default", "payments");
        var httpbin = state.serviceByVip(IpAddress.parse("127.10.0.1")).orElseThrow();
        assertThat(state.endpoints(httpbin)).extracting(Workload::name).containsExactly("httpbin-1", "httpbin-2");
        assertThat(state.policies().policies().peerAuthentications()).hasSize(1);

        var httpbin1 = state.workload(IpAddress.parse("127.0.2.1")).orElseThrow();
        var ledger = state.workload(IpAddress.parse("127.0.2.3")).orElseThrow();
        assertThat(allowed(state, httpbin1, "cluster.local/ns/default/sa/sleep"))
                .isTrue();
        assertThat(allowed(state, httpbin1, "cluster.local/ns/default/sa/curl")).isFalse();
        assertThat(allowed(state, ledger, "cluster.local/ns/default/sa/sleep")).isFalse();
        assertThat(allowed(state, ledger, "cluster.local/ns/payments/sa/ledger"))
                .isTrue();
    }

    @Test
    void istiodsOtherWorkloadAndServiceFieldsAreCarriedThrough() throws Exception {
        var state = LocalMeshFile.parse("""
                workloads:
                - name: a
                  namespace: ns
                  workloadIps: ["127.0.3.1"]
                  hostname: a.example
                  workloadName: a-deploy
                  workloadType: Deployment
                  clusterId: c1
                  locality: {region: eu, zone: eu-1, subzone: rack-2}
                  networkGateway: {destination: {address: /127.0.3.9}, hboneMtlsPort: 15009}
                  applicationTunnel: {protocol: Proxy, port: 15088}
                  nativeTunnel: true
                - {name: h1, namespace: ns, workloadIps: ["127.0.3.2"], networkMode: HostNetwork}
                - {name: h2, namespace: ns, workloadIps: ["127.0.3.2"], networkMode: HostNetwork}
                services:
                - {name: s, namespace: ns, hostname: s.ns, ipFamilies: Dual, canonical: true, visibility: Namespace}
                """, "f.yaml");
        var a = state.workloadByUid("Kubernetes//Pod/ns/a").orElseThrow();
        assertThat(a.hostname()).isEqualTo("a.example");
        assertThat(a.workloadName()).isEqualTo("a-deploy");
        assertThat(a.workloadType()).isEqualTo(Workload.WorkloadType.DEPLOYMENT);
        assertThat(a.clusterId()).isEqualTo("c1");
        assertThat(a.locality()).isEqualTo(new io.ambit.xds.mesh.Locality("eu", "eu-1", "rack-2"));
        assertThat(a.networkGateway().hboneMtlsPort()).isEqualTo(15009);
        assertThat(a.applicationTunnel())
                .isEqualTo(new io.ambit.xds.mesh.ApplicationTunnel(
                        io.ambit.xds.mesh.ApplicationTunnel.Protocol.PROXY, 15088));
        assertThat(a.nativeTunnel()).isTrue();
        assertThat(state.workloadByUid("Kubernetes//Pod/ns/h2").orElseThrow().networkMode())
                .isEqualTo(Workload.NetworkMode.HOST_NETWORK);
        var s = state.services().getFirst();
        assertThat(s.ipFamilies()).isEqualTo(io.ambit.xds.mesh.Service.IpFamilies.DUAL);
        assertThat(s.canonical()).isTrue();
        assertThat(s.visibility()).isEqualTo(io.ambit.xds.mesh.Service.Visibility.NAMESPACE);
    }

    @Test
    void aFileWithOnlyPoliciesGivesAnEmptyMesh() throws Exception {
        var state = LocalMeshFile.parse(VALID.substring(VALID.indexOf("---")), "p.yaml");
        assertThat(state.workloads()).isEmpty();
        assertThat(state.mesh()).isEqualTo(MeshConfig.DEFAULT);
        assertThat(state.policies().policies().authorizationPolicies()).hasSize(1);
    }

    static Stream<Arguments> badFiles() {
        return Stream.of(
                bad(
                        "an unknown workload field is refused",
                        "workloads:\n- {name: a, namespace: ns, workloadIps: [\"127.0.0.1\"], serviceAcount: x}\n",
                        "bad.yaml:2: Workload ns/a: workloads[0].serviceAcount: unknown field"),
                bad(
                        "an unknown workload type names the choices",
                        "workloads:\n- {name: a, namespace: ns, workloadIps: [\"127.0.0.1\"], workloadType: Pods}\n",
                        "bad.yaml:2: Workload ns/a: workloads[0].workloadType: is \"Pods\" (expected one of: Deployment,"
                                + " CronJob, Pod, Job)"),
                bad(
                        "an unknown field in a locality is refused",
                        "workloads:\n- {name: a, namespace: ns, workloadIps: [\"127.0.0.1\"], locality: {zon: x}}\n",
                        "bad.yaml:2: Workload ns/a: workloads[0].locality.zon: unknown field (expected one of: region,"
                                + " subzone, zone)"),
                bad(
                        "an unknown top-level field is refused",
                        "workload: []\n",
                        "bad.yaml:1: workload: unknown field (expected one of: mesh, policies, services, workloads)"),
                bad(
                        "ztunnel's internal policies are pointed to the CRDs",
                        "policies: []\n",
                        "bad.yaml:1: policies: is ztunnel's internal policy format"),
                bad(
                        "a duplicate workload IP names the first owner",
                        "workloads:\n- {name: a, namespace: ns, workloadIps: [\"127.0.0.1\"]}\n"
                                + "- {name: b, namespace: ns, workloadIps: [\"127.0.0.1\"]}\n",
                        "bad.yaml:3: Workload ns/b: workloads[1].workloadIps[0]: address /127.0.0.1 is already used by"
                                + " Workload ns/a at line 2"),
                bad(
                        "a workload IP equal to a service VIP is refused",
                        "services:\n- {name: s, namespace: ns, hostname: s.ns, vips: [\"/127.0.0.1\"]}\n"
                                + "workloads:\n- {name: a, namespace: ns, workloadIps: [\"127.0.0.1\"]}\n",
                        "bad.yaml:4: Workload ns/a: workloads[0].workloadIps[0]: address /127.0.0.1 is already used by"
                                + " Service ns/s.ns"),
                bad(
                        "a duplicate VIP is refused",
                        "services:\n- {name: s, namespace: ns, hostname: s.ns, vips: [\"/127.10.0.1\"]}\n"
                                + "- {name: t, namespace: ns, hostname: t.ns, vips: [\"/127.10.0.1\"]}\n",
                        "bad.yaml:3: Service ns/t.ns: services[1].vips[0]: address /127.10.0.1 is already used"),
                bad(
                        "a bad workload IP is refused",
                        "workloads:\n- {name: a, namespace: ns, workloadIps: [\"127.0.0.300\"]}\n",
                        "bad.yaml:2: Workload ns/a: workloads[0].workloadIps[0]: is \"127.0.0.300\" (expected: an IPv4"),
                bad(
                        "a bad VIP is refused",
                        "services:\n- {name: s, namespace: ns, hostname: s.ns, vips: [\"net/10.0.0\"]}\n",
                        "bad.yaml:2: Service ns/s.ns: services[0].vips[0]: is \"net/10.0.0\" (expected: network/ip"),
                bad(
                        "a service port out of range is refused",
                        "services:\n- {name: s, namespace: ns, hostname: s.ns, ports: {70000: 80}}\n",
                        "bad.yaml:2: Service ns/s.ns: services[0].ports.70000: has service port \"70000\""),
                bad(
                        "a target port out of range is refused",
                        "services:\n- name: s\n  namespace: ns\n  hostname: s.ns\n  ports:\n    80: 0\n",
                        "bad.yaml:6: Service ns/s.ns: services[0].ports.80: is \"0\" (expected: a port 1-65535)"),
                bad(
                        "an unknown service reference is refused",
                        "workloads:\n- name: a\n  namespace: ns\n  services:\n    \"ns/nope.ns\": {80: 80}\n",
                        "bad.yaml:5: workloads[0].services.ns/nope.ns: names unknown service ns/nope.ns"),
                bad(
                        "a waypoint naming an unknown service is refused",
                        "workloads:\n- name: a\n  namespace: ns\n  waypoint: {destination: {hostname: {namespace: ns,"
                                + " hostname: wp}}}\n",
                        "bad.yaml:4: workloads[0].waypoint.destination.hostname: names unknown service ns/wp"),
                bad(
                        "a malformed service key is refused",
                        "workloads:\n- {name: a, namespace: ns, services: {\"nohost\": {80: 80}}}\n",
                        "bad.yaml:2: Workload ns/a: workloads[0].services.nohost: is \"nohost\" (expected:"
                                + " namespace/hostname"),
                bad(
                        "a missing namespace is refused",
                        "workloads:\n- {name: a}\n",
                        "bad.yaml:2: workloads[0].namespace: is missing"),
                bad(
                        "an unknown status is refused",
                        "workloads:\n- {name: a, namespace: ns, status: Sick}\n",
                        "bad.yaml:2: Workload ns/a: workloads[0].status: is \"Sick\" (expected one of: Healthy,"
                                + " Unhealthy)"),
                bad(
                        "a negative capacity is refused",
                        "workloads:\n- {name: a, namespace: ns, capacity: -1}\n",
                        "bad.yaml:2: Workload ns/a: workloads[0].capacity: is \"-1\" (expected: a weight >= 0)"),
                bad(
                        "a duplicate uid is refused",
                        "workloads:\n- {uid: u, name: a, namespace: ns}\n- {uid: u, name: b, namespace: ns}\n",
                        "bad.yaml:3: Workload ns/b: workloads[1].uid: is \"u\", already used at line 2"),
                bad(
                        "a subject alt name that is not a SPIFFE id is refused",
                        "services:\n- {name: s, namespace: ns, hostname: s.ns, subjectAltNames: [\"web\"]}\n",
                        "bad.yaml:2: Service ns/s.ns: services[0].subjectAltNames[0]: "),
                bad(
                        "an unknown mesh setting is refused at its line",
                        "# settings\nmesh:\n  rootNamespace: istio-system\n  trustDomian: x\n",
                        "bad.yaml:4: mesh.trustDomian: unknown field"),
                bad(
                        "a bad mesh value in flow style is refused at its line",
                        "workloads: []\nmesh: {timeZone: Mars/Olympus}\n",
                        "bad.yaml:2: mesh.timeZone: is \"Mars/Olympus\""),
                bad(
                        "an invalid policy is refused with the policy loader's message",
                        "workloads: []\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
                                + "metadata: {name: p, namespace: ns}\nspec:\n  action: ALLOWED\n",
                        "bad.yaml:7: AuthorizationPolicy ns/p: spec.action: "),
                bad(
                        "another kind is refused",
                        "workloads: []\n---\napiVersion: v1\nkind: ConfigMap\n",
                        "bad.yaml:4: kind: is \"ConfigMap\" (expected: AuthorizationPolicy"),
                bad(
                        "a policy with the wrong group is refused",
                        "apiVersion: networking.istio.io/v1\nkind: AuthorizationPolicy\n",
                        "bad.yaml:1: apiVersion: is \"networking.istio.io/v1\" (expected: security.istio.io/v1"),
                bad(
                        "two mesh documents are refused",
                        "workloads: []\n---\nservices: []\n",
                        "bad.yaml:3: is a second document without kind (first at line 1"),
                bad(
                        "a document that is a list is refused",
                        "- a\n",
                        "bad.yaml:1: is a list (expected: the mesh document or an Istio object"),
                bad("a syntax error names its line", "workloads:\n  - {name: [}\n", "bad.yaml:2: invalid YAML:"),
                bad(
                        "a duplicate key is refused",
                        "workloads: []\nworkloads: []\n",
                        "bad.yaml:2: workloads: is written twice (first at line 1"));
    }

    private static Arguments bad(String name, String yaml, String expected) {
        return Arguments.of(name, yaml, expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void badInputIsRefusedWithFileLineAndField(String name, String yaml, String expected) {
        assertThatThrownBy(() -> LocalMeshFile.parse(yaml, "bad.yaml"))
                .isInstanceOfSatisfying(InvalidMeshFileException.class, e -> assertThat(e.errors())
                        .extracting(Object::toString)
                        .anySatisfy(m -> assertThat(m).startsWith(expected)));
    }

    static Stream<Arguments> hostileFiles() {
        return Stream.of(
                Arguments.of("deep flow nesting", "workloads: " + "[".repeat(10_000) + "\n", "nested more than 64"),
                Arguments.of("a billion laughs", laughs(), "invalid YAML"),
                Arguments.of(
                        "a document repeated through an alias", "--- &a\nworkloads: []\n--- *a\n", "invalid YAML"));
    }

    private static String laughs() {
        var sb = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 12; i++) {
            sb.append("a").append(i).append(": &a").append(i).append(" [");
            for (int j = 0; j < 10; j++) {
                sb.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
            }
            sb.append("]\n");
        }
        return "workloads: []\n" + sb;
    }

    @ParameterizedTest(name = "{0} is refused, not expanded")
    @MethodSource("hostileFiles")
    void hostileYamlIsBounded(String name, String yaml, String expected) {
        assertThatThrownBy(() -> LocalMeshFile.parse(yaml, "evil.yaml"))
                .isInstanceOfSatisfying(InvalidMeshFileException.class, e -> assertThat(e.getMessage())
                        .contains(expected));
    }

    private static boolean allowed(MeshState state, Workload dest, String peer) {
        var request = AccessRequest.builder()
                .peer(peer)
                .sourceIp("127.0.0.99")
                .destination(new io.ambit.policy.engine.AccessRequest.Destination(
                        dest.namespace(), dest.labels(), dest.serviceAccount(), null, null))
                .destinationIp(dest.ips().getFirst().ip().toString())
                .port(8080)
                .build();
        return state.policies().decideL4(request).allowed();
    }
}
