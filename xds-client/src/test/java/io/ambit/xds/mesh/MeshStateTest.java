package io.ambit.xds.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.match.IpAddress;
import io.ambit.policy.mesh.MeshConfig;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class MeshStateTest {
    private static final PolicySnapshot NO_POLICIES = PolicySnapshot.empty(MeshConfig.DEFAULT);

    private static Workload workload(String uid, String ip, Map<NamespacedHostname, List<Port>> services) {
        return Workload.builder(uid, "w", "ns")
                .ips(List.of(NetworkAddress.parse(ip)))
                .serviceAccount("sa")
                .node("node")
                .canonicalRevision("v1")
                .services(services)
                .build();
    }

    private static Service service(String host, String vip) {
        return Service.builder(host, "ns", host)
                .vips(List.of(NetworkAddress.parse(vip)))
                .ports(List.of(new Port(80, 8080)))
                .build();
    }

    static Stream<Arguments> contradictions() {
        var svc = new NamespacedHostname("ns", "a");
        return Stream.of(
                Arguments.of(
                        "two workloads with one IP",
                        List.of(workload("u1", "10.0.0.1", Map.of()), workload("u2", "10.0.0.1", Map.of())),
                        List.of()),
                Arguments.of(
                        "a workload IP that is a VIP",
                        List.of(workload("u1", "10.0.0.1", Map.of())),
                        List.of(service("a", "10.0.0.1"))),
                Arguments.of(
                        "two services with one VIP",
                        List.of(),
                        List.of(service("a", "/1.1.1.1"), service("b", "/1.1.1.1"))),
                Arguments.of(
                        "a workload naming an unknown service",
                        List.of(workload("u1", "10.0.0.1", Map.of(svc, List.of()))),
                        List.of()),
                Arguments.of(
                        "two workloads with one uid",
                        List.of(workload("u1", "10.0.0.1", Map.of()), workload("u1", "10.0.0.2", Map.of())),
                        List.of()));
    }

    @ParameterizedTest(name = "{0} is refused by the backstop")
    @MethodSource("contradictions")
    void contradictionsAreRefused(String name, List<Workload> workloads, List<Service> services) {
        assertThatThrownBy(() -> MeshState.of(workloads, services, NO_POLICIES, "test"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anIpv4MappedAddressFindsTheIpv4Workload() {
        var w = workload("u1", "10.0.0.1", Map.of());
        var state = MeshState.of(List.of(w), List.of(), NO_POLICIES, "test");
        assertThat(state.workload(IpAddress.parse("::ffff:10.0.0.1"))).contains(w);
        assertThat(MeshState.empty(MeshConfig.DEFAULT).workloads()).isEmpty();
    }

    @Test
    void resolvingLetsALaterEntryTakeAnIpAsZtunnelDoes() {
        var old = workload("u1", "10.0.0.1", Map.of());
        var reused = workload("u2", "10.0.0.1", Map.of());
        var state = MeshState.resolving(List.of(old, reused), List.of(), NO_POLICIES, "xds");
        assertThat(state.workload(IpAddress.parse("10.0.0.1"))).contains(reused);
        assertThat(state.workloadByUid("u1")).contains(old);
        assertThat(state.conflicts()).containsExactly("IP /10.0.0.1 belongs to two workloads or services");
    }

    @Test
    void resolvingKeepsAReferenceToAServiceNotYetKnownWithoutEndpoints() {
        var svc = new NamespacedHostname("ns", "a");
        var w = workload("u1", "10.0.0.1", Map.of(svc, List.of()));
        var before = MeshState.resolving(List.of(w), List.of(), NO_POLICIES, "xds");
        assertThat(before.workloads()).containsExactly(w);
        var after = MeshState.resolving(List.of(w), List.of(service("a", "/10.96.0.1")), NO_POLICIES, "xds");
        assertThat(after.endpoints(after.service(svc).orElseThrow())).containsExactly(w);
    }

    @Test
    void resolvingKeepsTheLastDefinitionOfAUidOnly() {
        var first = workload("u1", "10.0.0.1", Map.of());
        var second = workload("u1", "10.0.0.2", Map.of());
        var state = MeshState.resolving(List.of(first, second), List.of(), NO_POLICIES, "xds");
        assertThat(state.workloads()).containsExactly(second);
        assertThat(state.workload(IpAddress.parse("10.0.0.1"))).isEmpty();
    }

    @Test
    void hostNetworkWorkloadsShareAnIpAndAreNotFoundByIt() {
        var a = workload("u1", "10.0.0.1", Map.of()).toBuilder()
                .networkMode(Workload.NetworkMode.HOST_NETWORK)
                .build();
        var b = workload("u2", "10.0.0.1", Map.of()).toBuilder()
                .networkMode(Workload.NetworkMode.HOST_NETWORK)
                .build();
        var state = MeshState.of(List.of(a, b), List.of(), NO_POLICIES, "test");
        assertThat(state.workload(IpAddress.parse("10.0.0.1"))).isEmpty();
        assertThat(state.workloadByUid("u2")).contains(b);
    }

    @Test
    void aWorkloadOnANamedNetworkIsFoundByItsBareIpUnlessTwoNetworksShareIt() {
        var state = MeshState.of(
                List.of(
                        workload("a", "net-a/10.0.0.1", Map.of()),
                        workload("b", "net-b/10.0.0.2", Map.of()),
                        workload("c", "net-c/10.0.0.2", Map.of()),
                        workload("d", "10.0.0.3", Map.of())),
                List.of(),
                NO_POLICIES,
                "test");

        assertThat(state.workload(IpAddress.parse("10.0.0.1")))
                .as("the default network only")
                .isEmpty();
        assertThat(state.workloadOnAnyNetwork(IpAddress.parse("10.0.0.1")))
                .map(Workload::uid)
                .contains("a");
        assertThat(state.workloadOnAnyNetwork(IpAddress.parse("10.0.0.2")))
                .as("two networks share it: no guess")
                .isEmpty();
        assertThat(state.workloadOnAnyNetwork(IpAddress.parse("10.0.0.3")))
                .map(Workload::uid)
                .contains("d");
        assertThat(state.workload(NetworkAddress.parse("net-c/10.0.0.2")))
                .map(Workload::uid)
                .contains("c");
    }
}
