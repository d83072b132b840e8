package io.ambit.xds.convert;

import static io.ambit.xds.convert.ProtoFixtures.ip;
import static io.ambit.xds.convert.ProtoFixtures.pod;
import static io.ambit.xds.convert.ProtoFixtures.ports;
import static io.ambit.xds.convert.ProtoFixtures.waypointAt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.ApplicationTunnel;
import io.ambit.xds.mesh.Locality;
import io.ambit.xds.mesh.NamespacedHostname;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Port;
import io.ambit.xds.mesh.Workload;
import io.ambit.xds.proto.workload.GatewayAddress;
import io.ambit.xds.proto.workload.NetworkMode;
import io.ambit.xds.proto.workload.TunnelProtocol;
import io.ambit.xds.proto.workload.WorkloadStatus;
import io.ambit.xds.proto.workload.WorkloadType;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class WorkloadConverterTest {
    private static final String UID = "Kubernetes//Pod/default/web-1";

    private static Workload convert(io.ambit.xds.proto.workload.Workload.Builder b) throws InvalidResourceException {
        return WorkloadConverter.convert(b.getUid(), b.build());
    }

    @Test
    void everyFieldIstiodSendsReachesTheModel() throws Exception {
        var w = convert(pod("default", "web-1", "10.0.0.1")
                .addAddresses(ip("fd00::1"))
                .setNetwork("net1")
                .setTrustDomain("example.org")
                .setHostname("web-1.example")
                .setWaypoint(waypointAt("10.0.0.9"))
                .setNetworkGateway(GatewayAddress.newBuilder()
                        .setHostname(io.ambit.xds.proto.workload.NamespacedHostname.newBuilder()
                                .setNamespace("istio-system")
                                .setHostname("eastwest.istio-system.svc.cluster.local"))
                        .setHboneMtlsPort(15009))
                .putServices("default/web.default.svc.cluster.local", ports(80, 8080))
                .addAuthorizationPolicies("default/allow-web")
                .setStatus(WorkloadStatus.HEALTHY)
                .setClusterId("cluster-1")
                .setLocality(io.ambit.xds.proto.workload.Locality.newBuilder()
                        .setRegion("eu")
                        .setZone("eu-1"))
                .setWorkloadType(WorkloadType.DEPLOYMENT)
                .setApplicationTunnel(io.ambit.xds.proto.workload.ApplicationTunnel.newBuilder()
                        .setProtocol(io.ambit.xds.proto.workload.ApplicationTunnel.Protocol.PROXY)
                        .setPort(15088))
                .setNativeTunnel(true)
                .setCapacity(com.google.protobuf.UInt32Value.of(5)));
        assertThat(w.uid()).isEqualTo(UID);
        assertThat(w.ips())
                .containsExactly(
                        new NetworkAddress("net1", IpAddress.parse("10.0.0.1")),
                        new NetworkAddress("net1", IpAddress.parse("fd00::1")));
        assertThat(w.identity().toString()).isEqualTo("spiffe://example.org/ns/default/sa/web-1");
        assertThat(w.protocol()).isEqualTo(Workload.Protocol.HBONE);
        assertThat(w.waypoint().address().ip()).isEqualTo(IpAddress.parse("10.0.0.9"));
        assertThat(w.networkGateway().hostname().hostname()).isEqualTo("eastwest.istio-system.svc.cluster.local");
        assertThat(w.networkGateway().hboneMtlsPort()).isEqualTo(15009);
        assertThat(w.services())
                .containsEntry(
                        new NamespacedHostname("default", "web.default.svc.cluster.local"),
                        List.of(new Port(80, 8080)));
        assertThat(w.authorizationPolicies()).containsExactly("default/allow-web");
        assertThat(w.labels())
                .containsEntry(PolicyLabels.policyLabel("default/allow-web"), PolicyLabels.SELECTED)
                .containsEntry("app", "web-1")
                .containsEntry("version", "v1");
        assertThat(w.clusterId()).isEqualTo("cluster-1");
        assertThat(w.locality()).isEqualTo(new Locality("eu", "eu-1", ""));
        assertThat(w.workloadType()).isEqualTo(Workload.WorkloadType.DEPLOYMENT);
        assertThat(w.workloadName()).isEqualTo("web-1-deploy");
        assertThat(w.hostname()).isEqualTo("web-1.example");
        assertThat(w.applicationTunnel()).isEqualTo(new ApplicationTunnel(ApplicationTunnel.Protocol.PROXY, 15088));
        assertThat(w.nativeTunnel()).isTrue();
        assertThat(w.capacity()).isEqualTo(5);
        assertThat(w.node()).isEqualTo("node-1");
    }

    @Test
    void emptyFieldsTakeZtunnelsDefaults() throws Exception {
        var w = convert(io.ambit.xds.proto.workload.Workload.newBuilder()
                .setUid(UID)
                .setName("web-1")
                .setNamespace("default")
                .addAddresses(ip("10.0.0.1")));
        assertThat(w.trustDomain()).isEqualTo("cluster.local");
        assertThat(w.serviceAccount()).isEqualTo("default");
        assertThat(w.capacity()).isEqualTo(1);
        assertThat(w.protocol()).isEqualTo(Workload.Protocol.TCP);
        assertThat(w.status()).isEqualTo(Workload.Status.HEALTHY);
        assertThat(w.canonicalName()).isEqualTo("web-1");
        assertThat(w.workloadName()).isEqualTo("web-1");
        assertThat(w.waypoint()).isNull();
        assertThat(w.networkMode()).isEqualTo(Workload.NetworkMode.STANDARD);
    }

    @Test
    void ipv4MappedAddressesAreStoredAsIpv4() throws Exception {
        var w = convert(pod("default", "web-1", "::ffff:10.0.0.1"));
        assertThat(w.ips()).containsExactly(NetworkAddress.of(IpAddress.parse("10.0.0.1")));
    }

    @Test
    void aWorkloadPortWithoutTargetLeavesTheServicesOwnMapping() throws Exception {
        var w = convert(pod("default", "web-1", "10.0.0.1").putServices("default/web.svc", ports(80, 0)));
        assertThat(w.services().get(new NamespacedHostname("default", "web.svc")))
                .isEmpty();
    }

    static Stream<Arguments> toleratedEnums() {
        return Stream.of(
                Arguments.of(
                        "an unknown workload type labels telemetry as unknown",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>) b -> b.setWorkloadTypeValue(42),
                        (java.util.function.Predicate<Workload>)
                                w -> w.workloadType() == Workload.WorkloadType.UNKNOWN),
                Arguments.of(
                        "an unknown status takes the workload out of load balancing",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>) b -> b.setStatusValue(9),
                        (java.util.function.Predicate<Workload>) w -> w.status() == Workload.Status.UNHEALTHY),
                Arguments.of(
                        "an unknown network mode keeps the addresses the workload's own",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>) b -> b.setNetworkModeValue(7),
                        (java.util.function.Predicate<Workload>) w -> w.networkMode() == Workload.NetworkMode.STANDARD),
                Arguments.of(
                        "host network mode is carried",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>)
                                b -> b.setNetworkMode(NetworkMode.HOST_NETWORK),
                        (java.util.function.Predicate<Workload>)
                                w -> w.networkMode() == Workload.NetworkMode.HOST_NETWORK));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("toleratedEnums")
    void valuesNewerThanAmbitAreToleratedWhereGuessingIsSafe(
            String name,
            UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder> edit,
            java.util.function.Predicate<Workload> expected)
            throws Exception {
        assertThat(convert(edit.apply(pod("default", "web-1", "10.0.0.1")))).matches(expected);
    }

    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of(
                        "a uid other than the resource name",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>) b -> b.setUid("other"),
                        "differs from the resource name"),
                Arguments.of(
                        "an address of five bytes",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>)
                                b -> b.addAddresses(ByteString.copyFrom(new byte[5])),
                        "addresses[1]: address of 5 bytes (expected: 4 for IPv4 or 16 for IPv6)"),
                Arguments.of(
                        "the legacy Istio mTLS tunnel ztunnel refuses",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>)
                                b -> b.setTunnelProtocol(TunnelProtocol.LEGACY_ISTIO_MTLS),
                        "tunnel_protocol LEGACY_ISTIO_MTLS is not supported"),
                Arguments.of(
                        "a tunnel protocol newer than Ambit",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>) b -> b.setTunnelProtocolValue(5),
                        "tunnel_protocol 5 is unknown"),
                Arguments.of(
                        "a services key without a namespace",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>)
                                b -> b.putServices("web.svc", ports(80, 8080)),
                        "services key is \"web.svc\" (expected: namespace/hostname"),
                Arguments.of(
                        "a port over 65535",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>)
                                b -> b.putServices("default/web.svc", ports(80, 70000)),
                        "port 80 -> 70000 (expected: service port 1-65535, target port 0-65535)"),
                Arguments.of(
                        "a waypoint with no destination",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>)
                                b -> b.setWaypoint(GatewayAddress.newBuilder().setHboneMtlsPort(15008)),
                        "waypoint has no destination (expected: an address or a hostname)"),
                Arguments.of(
                        "a service account that is no identity part",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>) b -> b.setServiceAccount("a/b"),
                        "service account \"a/b\" contains '/'"),
                Arguments.of(
                        "no namespace",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>) b -> b.setNamespace(""),
                        "namespace is empty"),
                Arguments.of(
                        "neither addresses nor hostname",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>) b -> b.clearAddresses(),
                        "has neither addresses nor hostname"),
                Arguments.of(
                        "a malformed authorization policy key",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>)
                                b -> b.addAuthorizationPolicies("allow-all"),
                        "authorization_policies entry \"allow-all\""),
                Arguments.of(
                        "a capacity over 2^31",
                        (UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder>)
                                b -> b.setCapacity(com.google.protobuf.UInt32Value.of(-1)),
                        "capacity 4294967295"));
    }

    @ParameterizedTest(name = "refused: {0}")
    @MethodSource("refused")
    void badWorkloadsAreRefusedByNameWithTheReason(
            String name, UnaryOperator<io.ambit.xds.proto.workload.Workload.Builder> edit, String message) {
        var b = pod("default", "web-1", "10.0.0.1");
        var edited = edit.apply(b.clone());
        assertThatThrownBy(() -> WorkloadConverter.convert(UID, edited.build()))
                .isInstanceOf(InvalidResourceException.class)
                .hasMessageStartingWith(UID + ": ")
                .hasMessageContaining(message);
    }
}
