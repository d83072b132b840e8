package io.ambit.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.client.NodeInfo;
import io.ambit.xds.client.XdsMeshSource;
import io.ambit.xds.client.XdsSettings;
import io.ambit.xds.convert.AddressConverter;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.Workload;
import io.ambit.xds.proto.workload.Address;
import io.ambit.xds.proto.workload.TunnelProtocol;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The xDS client against the local control plane over real gRPC and TLS: what a file says arrives at the
 * client with the same meaning, changes follow, bad resources are NACKed by name, and restarts and
 * absences of the server neither lose state nor cause a reload storm.
 */
class ControlPlaneXdsTest {
    private static final String ADDRESS = AddressConverter.TYPE_URL;

    @TempDir
    Path dir;

    private Path meshFile;
    private Path token;
    private final ManualTrigger trigger = new ManualTrigger();
    private LocalControlPlane plane;
    private XdsMeshSource source;
    private final AtomicInteger published = new AtomicInteger();
    private final List<String> rejected = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        meshFile = dir.resolve("mesh.yaml");
        Files.writeString(meshFile, Meshes.SHOP);
        token = dir.resolve("istio-token");
        Files.writeString(token, "token-one");
        plane = startPlane(0);
        source = startClient(XdsSettings.of(plane.url(), plane.rootCert(), token, "Kubernetes"));
        source.ready().get(20, TimeUnit.SECONDS);
    }

    private LocalControlPlane startPlane(int port) throws Exception {
        return LocalControlPlane.start(LocalControlPlane.Config.of(
                        meshFile, new InetSocketAddress(InetAddress.getByName("127.91.0.1"), port), dir.resolve("ca"))
                .withTrigger(trigger));
    }

    private XdsMeshSource startClient(XdsSettings settings) {
        var node = NodeInfo.ztunnel("127.91.0.10", "ztunnel-x1", "istio-system", "node-a", "Kubernetes", Map.of());
        var s = XdsMeshSource.start(settings, node, MeshConfig.DEFAULT, new SimpleMeterRegistry());
        s.addListener(new MeshSource.Listener() {
            @Override
            public void updated(MeshState state) {
                published.incrementAndGet();
            }

            @Override
            public void rejected(List<io.ambit.policy.load.LoadError> errors) {
                errors.forEach(e -> rejected.add(e.toString()));
            }
        });
        return s;
    }

    @AfterEach
    void stop() {
        if (source != null) {
            source.close();
        }
        if (plane != null) {
            plane.close();
        }
    }

    @Test
    void theInitialSyncCarriesTheFileWithTheSameMeaning() {
        var state = source.current();
        assertThat(state.workloads()).hasSize(3);
        assertThat(state.services()).hasSize(1);
        // istiod's shape: the selector policy plus the converted mesh-wide STRICT PeerAuthentication
        assertThat(state.policies().policies().authorizationPolicies())
                .extracting(p -> p.meta().ref())
                .containsExactlyInAnyOrder(
                        "shop/web-allow-client", "istio-system/istio_converted_peer_authentication_strict");
        assertThat(Meshes.decisions(state)).isEqualTo(Meshes.decisions(plane.mesh()));
        assertThat(Meshes.decisions(state))
                .contains("Kubernetes//Pod/shop/web <- cluster.local/ns/shop/sa/client :8080 ALLOW")
                .contains("Kubernetes//Pod/shop/web <- cluster.local/ns/other/sa/other :8080 DENY")
                .contains("Kubernetes//Pod/other/other <- null :8080 DENY");
    }

    @Test
    void theNodeAndItsCredentialsReachTheServerAsIstiodExpects() {
        var first = plane.firstRequests();
        assertThat(first)
                .extracting(r -> r.getTypeUrl())
                .containsExactly(ADDRESS, "type.googleapis.com/istio.security.Authorization");
        var node = first.getFirst().getNode();
        assertThat(node.getId())
                .isEqualTo("ztunnel~127.91.0.10~ztunnel-x1.istio-system~istio-system.svc.cluster.local");
        assertThat(node.getMetadata().getFieldsMap().get("NODE_NAME").getStringValue())
                .isEqualTo("node-a");
        assertThat(first.getFirst().getResourceNamesSubscribeList()).isEmpty(); // wildcard
        var headers = plane.lastHeaders()
                .get("envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources");
        assertThat(headers).containsEntry("authorization", "Bearer token-one").containsEntry("clusterid", "Kubernetes");
    }

    @Test
    void aNewAllowPolicyAndARemovedWorkloadReachTheClient() throws Exception {
        String before = "Kubernetes//Pod/shop/web <- cluster.local/ns/other/sa/other :8080 DENY";
        assertThat(Meshes.decisions(source.current())).contains(before);

        Files.writeString(meshFile, Meshes.SHOP + Meshes.ALLOW_OTHER);
        trigger.fire();
        Await.until("the new policy at the client", () -> Meshes.decisions(source.current())
                .contains("Kubernetes//Pod/shop/web <- cluster.local/ns/other/sa/other :8080 ALLOW"));
        assertThat(Meshes.decisions(source.current())).isEqualTo(Meshes.decisions(plane.mesh()));

        Files.writeString(meshFile, Meshes.SHOP.replace("- {name: client,", "- {name: client2,") + Meshes.ALLOW_OTHER);
        trigger.fire();
        Await.until("the renamed workload at the client", () -> source.current()
                .workloadByUid("Kubernetes//Pod/shop/client2")
                .isPresent());
        assertThat(source.current().workloadByUid("Kubernetes//Pod/shop/client"))
                .isEmpty();
        assertThat(source.status().nacks()).isZero();
    }

    @Test
    void oneBadResourceIsNackedByNameWhileTheOthersApply() {
        var good = workload("Kubernetes//Pod/shop/extra", "127.91.1.20");
        var bad = Address.newBuilder()
                .setWorkload(good.getWorkload().toBuilder()
                        .setUid("Kubernetes//Pod/shop/broken")
                        .clearAddresses()
                        .addAddresses(ByteString.copyFrom(new byte[5])))
                .build();
        plane.serveExtra(
                ADDRESS,
                List.of(entry("Kubernetes//Pod/shop/extra", good), entry("Kubernetes//Pod/shop/broken", bad)),
                List.of());
        Await.until("the NACK at the server", () -> plane.stats().nacks() == 1);
        assertThat(plane.stats().lastNack())
                .isEqualTo("Kubernetes//Pod/shop/broken: addresses[0]: address of 5 bytes (expected: 4 for IPv4 or 16"
                        + " for IPv6)");
        Await.until("the good one applied", () -> source.current()
                .workloadByUid("Kubernetes//Pod/shop/extra")
                .isPresent());
        assertThat(source.current().workloadByUid("Kubernetes//Pod/shop/broken"))
                .isEmpty();
        assertThat(rejected).singleElement().asString().contains("Kubernetes//Pod/shop/broken");
        // the rest of the mesh is untouched
        assertThat(source.current().workloads()).hasSize(4);
    }

    @Test
    void anEnumValueNewerThanAmbitIsToleratedAndAcked() {
        var future = workload("Kubernetes//Pod/shop/future", "127.91.1.21");
        future = future.toBuilder()
                .setWorkload(future.getWorkload().toBuilder()
                        .setWorkloadTypeValue(99)
                        .setNetworkModeValue(7))
                .build();
        long acks = plane.stats().acks();
        plane.serveExtra(ADDRESS, List.of(entry("Kubernetes//Pod/shop/future", future)), List.of());
        Await.until("the ACK", () -> plane.stats().acks() > acks);
        var w = Await.value(
                "the workload",
                () -> source.current().workloadByUid("Kubernetes//Pod/shop/future"),
                o -> o.isPresent());
        assertThat(w.get().workloadType()).isEqualTo(Workload.WorkloadType.UNKNOWN);
        assertThat(plane.stats().nacks()).isZero();
    }

    @Test
    void aRestartedServerGetsTheHeldVersionsAndSendsNothingAgain() throws Exception {
        int port = plane.address().getPort();
        var before = source.current();
        int publishedBefore = published.get();
        plane.close();
        Await.until("the client to notice", () -> !source.status().connected());
        assertThat(source.current()).isSameAs(before); // the last state keeps serving

        plane = startPlane(port);
        Await.until(
                "a stream to the new server",
                () -> plane.stats().streams() >= 1 && plane.stats().acks() >= 2);
        var first = plane.firstRequests();
        assertThat(first).hasSize(2);
        // every held resource is reported with its version: 3 workloads + 1 service, 2 authorizations
        assertThat(first.get(0).getInitialResourceVersionsMap()).hasSize(4);
        assertThat(first.get(1).getInitialResourceVersionsMap()).hasSize(2);
        // ... so the new server sends nothing again and the client builds no new state
        assertThat(plane.stats().resourcesSent()).isZero();
        assertThat(published.get()).isEqualTo(publishedBefore);
        assertThat(source.current()).isSameAs(before);
    }

    @Test
    void whileTheServerIsGoneTheClientRetriesWithBackoffAndKeepsItsState() throws Exception {
        var before = source.current();
        plane.close();
        long streams = source.status().streams();
        Await.until("several reconnect attempts", () -> source.status().streams() >= streams + 4);
        assertThat(source.current()).isSameAs(before);
        assertThat(source.status().lastError()).startsWith("UNAVAILABLE");
        plane = null; // closed
    }

    @Test
    void aRotatedTokenFileIsReadAgainForTheNextStream() throws Exception {
        Files.writeString(token, "token-two");
        int port = plane.address().getPort();
        plane.close();
        plane = startPlane(port);
        Await.until("a new stream", () -> plane.stats().streams() >= 1);
        var headers = plane.lastHeaders()
                .get("envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources");
        assertThat(headers).containsEntry("authorization", "Bearer token-two");
    }

    @Test
    void onDemandLookupsAskForOneAddressAtATime() throws Exception {
        var demand = startClient(XdsSettings.of(plane.url(), plane.rootCert(), token, "Kubernetes")
                .withOnDemand(true));
        try {
            demand.ready().get(20, TimeUnit.SECONDS);
            assertThat(demand.current().workloads()).isEmpty();
            var found = demand.lookup(io.ambit.xds.mesh.NetworkAddress.parse("/127.91.1.3"), 10_000)
                    .get(20, TimeUnit.SECONDS);
            assertThat(found).hasValueSatisfying(w -> assertThat(w.name()).isEqualTo("other"));
            var missing = demand.lookup(io.ambit.xds.mesh.NetworkAddress.parse("/127.91.9.99"), 10_000)
                    .get(20, TimeUnit.SECONDS);
            assertThat(missing).isEmpty();
            assertThat(demand.current().workloads()).hasSize(1);
        } finally {
            demand.close();
        }
    }

    @Test
    void tenThousandWorkloadsArriveInOneSnapshot() throws Exception {
        Files.writeString(meshFile, Meshes.large(10_000));
        trigger.fire();
        Await.until(
                "10,000 workloads at the client",
                Duration.ofSeconds(60),
                () -> source.current().workloads().size() == 10_000);
        var state = source.current();
        assertThat(state.services()).hasSize(100);
        assertThat(state.endpoints(state.services().getFirst())).hasSize(100);
        assertThat(state.workload(io.ambit.policy.match.IpAddress.parse("127.91.139.250")))
                .hasValueSatisfying(w -> assertThat(w.name()).isEqualTo("w9999"));
        assertThat(source.status().nacks()).isZero();
    }

    // ---- helpers

    private static Address workload(String uid, String ip) {
        String name = uid.substring(uid.lastIndexOf('/') + 1);
        return Address.newBuilder()
                .setWorkload(io.ambit.xds.proto.workload.Workload.newBuilder()
                        .setUid(uid)
                        .setName(name)
                        .setNamespace("shop")
                        .setServiceAccount(name)
                        .addAddresses(ByteString.copyFrom(InetAddressBytes.of(ip)))
                        .setTunnelProtocol(TunnelProtocol.HBONE)
                        .setNode("node-a"))
                .build();
    }

    private static XdsSnapshot.Entry entry(String name, Address a) {
        var any = Any.pack(a);
        return new XdsSnapshot.Entry(name, Integer.toHexString(any.hashCode()), any, List.of());
    }

    private static final class InetAddressBytes {
        static byte[] of(String ip) {
            try {
                return InetAddress.getByName(ip).getAddress();
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException(e);
            }
        }
    }
}
