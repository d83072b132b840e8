package io.ambit.xds.convert;

import static io.ambit.xds.convert.ProtoFixtures.ip;
import static io.ambit.xds.convert.ProtoFixtures.service;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.LoadBalancing;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Port;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.proto.workload.Address;
import io.ambit.xds.proto.workload.IPFamilies;
import io.ambit.xds.proto.workload.Visibility;
import org.junit.jupiter.api.Test;

class ServiceConverterTest {
    private static final String NAME = "default/web.default.svc.cluster.local";

    @Test
    void everyFieldIstiodSendsReachesTheModel() throws Exception {
        var s = ServiceConverter.convert(
                NAME,
                service("default", "web", "10.96.0.1")
                        .addAddresses(io.ambit.xds.proto.workload.NetworkAddress.newBuilder()
                                .setNetwork("net1")
                                .setAddress(ip("fd00::a")))
                        .addSubjectAltNames("spiffe://cluster.local/ns/default/sa/web-canary")
                        .setWaypoint(ProtoFixtures.waypointAt("10.0.0.9"))
                        .setLoadBalancing(io.ambit.xds.proto.workload.LoadBalancing.newBuilder()
                                .addRoutingPreference(io.ambit.xds.proto.workload.LoadBalancing.Scope.NODE)
                                .addRoutingPreference(io.ambit.xds.proto.workload.LoadBalancing.Scope.ZONE)
                                .setMode(io.ambit.xds.proto.workload.LoadBalancing.Mode.FAILOVER)
                                .setHealthPolicy(io.ambit.xds.proto.workload.LoadBalancing.HealthPolicy.ALLOW_ALL))
                        .setIpFamilies(IPFamilies.DUAL)
                        .setCanonical(true)
                        .setVisibility(Visibility.NAMESPACE)
                        .build());
        assertThat(s.key().toString()).isEqualTo(NAME);
        assertThat(s.vips())
                .containsExactly(
                        NetworkAddress.of(IpAddress.parse("10.96.0.1")),
                        new NetworkAddress("net1", IpAddress.parse("fd00::a")));
        assertThat(s.ports()).containsExactly(new Port(80, 8080));
        assertThat(s.subjectAltNames()).containsExactly("spiffe://cluster.local/ns/default/sa/web-canary");
        assertThat(s.waypoint().hboneMtlsPort()).isEqualTo(15008);
        assertThat(s.loadBalancing())
                .isEqualTo(new LoadBalancing(
                        java.util.List.of(LoadBalancing.Scope.NODE, LoadBalancing.Scope.ZONE),
                        LoadBalancing.Mode.FAILOVER,
                        LoadBalancing.HealthPolicy.ALLOW_ALL));
        assertThat(s.ipFamilies()).isEqualTo(Service.IpFamilies.DUAL);
        assertThat(s.canonical()).isTrue();
        assertThat(s.visibility()).isEqualTo(Service.Visibility.NAMESPACE);
    }

    @Test
    void loadBalancingValuesNewerThanAmbitFallBackWithoutRefusingTheService() throws Exception {
        var s = ServiceConverter.convert(
                NAME,
                service("default", "web", "10.96.0.1")
                        .setLoadBalancing(io.ambit.xds.proto.workload.LoadBalancing.newBuilder()
                                .addRoutingPreferenceValue(42)
                                .addRoutingPreference(io.ambit.xds.proto.workload.LoadBalancing.Scope.REGION)
                                .setModeValue(17)
                                .setHealthPolicyValue(3))
                        .setIpFamiliesValue(8)
                        .setVisibilityValue(5)
                        .build());
        assertThat(s.loadBalancing())
                .isEqualTo(new LoadBalancing(
                        java.util.List.of(LoadBalancing.Scope.REGION),
                        LoadBalancing.Mode.STANDARD,
                        LoadBalancing.HealthPolicy.ONLY_HEALTHY));
        assertThat(s.ipFamilies()).isEqualTo(Service.IpFamilies.AUTOMATIC);
        // the narrower choice: an unknown visibility keeps the service to its namespace
        assertThat(s.visibility()).isEqualTo(Service.Visibility.NAMESPACE);
    }

    @Test
    void aNamedTargetPortIsKeptAsZeroForTheEndpointsToResolve() throws Exception {
        var s = ServiceConverter.convert(
                NAME,
                service("default", "web", "10.96.0.1")
                        .clearPorts()
                        .addPorts(io.ambit.xds.proto.workload.Port.newBuilder().setServicePort(80))
                        .build());
        assertThat(s.targetPort(80)).isZero();
    }

    @Test
    void badServicesAreRefusedByName() {
        assertThatThrownBy(() -> ServiceConverter.convert(
                        "default/other", service("default", "web", "10.96.0.1").build()))
                .hasMessage("default/other: is service " + NAME
                        + " under another resource name (expected: namespace/hostname, as istiod sends)");
        assertThatThrownBy(() -> ServiceConverter.convert(
                        NAME,
                        service("default", "web", "10.96.0.1")
                                .addSubjectAltNames("web.default")
                                .build()))
                .hasMessageStartingWith(NAME + ": subject_alt_names[0]: \"web.default\" is not a workload SPIFFE id");
        assertThatThrownBy(() -> ServiceConverter.convert(
                        NAME,
                        service("default", "web", "10.96.0.1")
                                .addPorts(io.ambit.xds.proto.workload.Port.newBuilder()
                                        .setServicePort(80)
                                        .setTargetPort(9090))
                                .build()))
                .hasMessageContaining("ports[1] repeats service port 80");
        assertThatThrownBy(() -> ServiceConverter.convert(
                        NAME,
                        service("default", "web", "10.96.0.1")
                                .addAddresses(io.ambit.xds.proto.workload.NetworkAddress.newBuilder()
                                        .setAddress(ip("10.96.0.1"))
                                        .setLength(24))
                                .build()))
                .hasMessageContaining("addresses[1]: 10.96.0.1/24 has host bits set after the prefix");
        assertThatThrownBy(() -> ServiceConverter.convert(
                        NAME,
                        service("default", "web", "10.96.0.1")
                                .addAddresses(io.ambit.xds.proto.workload.NetworkAddress.newBuilder()
                                        .setAddress(ByteString.copyFrom(new byte[3])))
                                .build()))
                .hasMessageContaining("addresses[1]: address of 3 bytes");
    }

    @Test
    void anAddressResourceIsUnpackedOnlyFromItsOwnTypeUrl() throws Exception {
        var svc = service("default", "web", "10.96.0.1").build();
        var any = Any.pack(Address.newBuilder().setService(svc).build());
        assertThat(any.getTypeUrl()).isEqualTo(AddressConverter.TYPE_URL);
        assertThat(AddressConverter.convert(NAME, any).service().hostname()).isEqualTo("web.default.svc.cluster.local");

        assertThatThrownBy(() -> AddressConverter.convert(NAME, Any.pack(svc)))
                .hasMessage(NAME + ": payload is \"type.googleapis.com/istio.workload.Service\" (expected: "
                        + AddressConverter.TYPE_URL + ")");
        var garbage = Any.newBuilder()
                .setTypeUrl(AddressConverter.TYPE_URL)
                .setValue(ByteString.copyFrom(new byte[] {0x0a, 0x7f, 0x01}))
                .build();
        assertThatThrownBy(() -> AddressConverter.convert(NAME, garbage))
                .hasMessageStartingWith(NAME + ": payload does not decode as istio.workload.Address");
        var empty = Any.newBuilder().setTypeUrl(AddressConverter.TYPE_URL).build();
        assertThatThrownBy(() -> AddressConverter.convert(NAME, empty))
                .hasMessage(NAME + ": Address holds neither a workload nor a service (expected: one)");
    }
}
