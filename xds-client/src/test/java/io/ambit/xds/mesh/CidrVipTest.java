package io.ambit.xds.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.match.IpAddress;
import io.ambit.policy.mesh.MeshConfig;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * ztunnel-reference.md §8 "CIDR VIPs": a service may own a range; an address goes to the service with it as
 * an exact VIP first, then to the service of the longest range on the same network that holds it.
 */
class CidrVipTest {
    private static final PolicySnapshot NO_POLICIES = PolicySnapshot.empty(MeshConfig.DEFAULT);

    static Service service(String host, List<String> vips, List<NetworkCidr> ranges) {
        return Service.builder(host, "ns", host)
                .vips(vips.stream().map(NetworkAddress::parse).toList())
                .cidrVips(ranges)
                .ports(List.of(new Port(80, 8080)))
                .build();
    }

    static NetworkCidr range(String text) {
        return NetworkCidr.parseIfCidr(text).orElseThrow();
    }

    private static final MeshState STATE = MeshState.of(
            List.of(),
            List.of(
                    service("wide", List.of(), List.of(range("10.0.0.0/8"))),
                    service("narrow", List.of(), List.of(range("10.96.0.0/16"))),
                    service("narrower", List.of(), List.of(range("10.96.5.0/24"))),
                    service("exact", List.of("/10.96.5.7"), List.of()),
                    service("other-net", List.of(), List.of(range("net1/10.96.0.0/16"))),
                    service("six", List.of(), List.of(range("fd00:10::/64"), range("fd00::/16"))),
                    service("sixty", List.of(), List.of(range("fd00:10::/96"))),
                    service("everything", List.of(), List.of(range("net2/0.0.0.0/0")))),
            NO_POLICIES,
            "test");

    private static Optional<String> at(String address) {
        return STATE.serviceByVip(NetworkAddress.parse(address)).map(Service::hostname);
    }

    @Test
    void anExactVipWinsOverEveryRangeHoldingIt() {
        assertThat(at("/10.96.5.7")).contains("exact");
        assertThat(STATE.serviceByCidrVip(NetworkAddress.parse("/10.96.5.7")).map(Service::hostname))
                .as("the range alone")
                .contains("narrower");
        assertThat(STATE.serviceByExactVip(NetworkAddress.parse("/10.96.5.8"))).isEmpty();
    }

    @Test
    void theLongestRangeHoldingTheAddressWins() {
        assertThat(at("/10.96.5.8")).contains("narrower");
        assertThat(at("/10.96.6.1")).contains("narrow");
        assertThat(at("/10.1.2.3")).contains("wide");
        assertThat(at("/10.255.255.255")).contains("wide");
        assertThat(at("/11.0.0.0")).isEmpty();
        assertThat(at("/9.255.255.255")).isEmpty();
    }

    @Test
    void rangesAreMatchedOnTheirOwnNetworkOnly() {
        assertThat(at("net1/10.96.1.1")).contains("other-net");
        assertThat(at("net1/10.1.1.1"))
                .as("the default network's /8 is not on net1")
                .isEmpty();
        assertThat(at("net2/192.0.2.1"))
                .as("a /0 holds every IPv4 address of its network")
                .contains("everything");
        assertThat(at("net2/fd00::1")).as("but no IPv6 address").isEmpty();
        assertThat(at("net3/10.96.1.1")).isEmpty();
    }

    @Test
    void ipv6RangesMatchByLongestPrefixToo() {
        assertThat(at("/fd00:10::5")).contains("sixty");
        assertThat(at("/fd00:10::1:0:5")).contains("six");
        assertThat(at("/fd00:ffff::1")).contains("six");
        assertThat(at("/fd01::1")).isEmpty();
        assertThat(at("/10.0.0.1"))
                .as("an IPv4 address is never in an IPv6 range")
                .contains("wide");
    }

    @Test
    void aWorkloadIpInsideARangeIsStillThatWorkloadsAndNoConflict() {
        var w = Workload.builder("u1", "w", "ns")
                .ips(List.of(NetworkAddress.parse("/10.96.0.9")))
                .build();
        var state = MeshState.of(
                List.of(w), List.of(service("narrow", List.of(), List.of(range("10.96.0.0/16")))), NO_POLICIES, "t");
        assertThat(state.workload(IpAddress.parse("10.96.0.9"))).contains(w);
        assertThat(state.serviceByCidrVip(NetworkAddress.parse("/10.96.0.9"))).isPresent();
        assertThat(state.conflicts()).isEmpty();
    }

    @Test
    void oneRangeOwnedByTwoServicesIsAContradiction() {
        var a = service("a", List.of(), List.of(range("10.96.0.0/16")));
        var b = service("b", List.of(), List.of(range("10.96.0.0/16")));
        assertThatThrownBy(() -> MeshState.of(List.of(), List.of(a, b), NO_POLICIES, "t"))
                .hasMessage("CIDR VIP /10.96.0.0/16 belongs to two services");
        var resolved = MeshState.resolving(List.of(), List.of(a, b), NO_POLICIES, "t");
        assertThat(resolved.conflicts()).containsExactly("CIDR VIP /10.96.0.0/16 belongs to two services");
        assertThat(resolved.serviceByVip(NetworkAddress.parse("/10.96.1.1")).map(Service::hostname))
                .as("the later entry takes it, as for exact VIPs")
                .contains("b");
        var sameOnOtherNetwork = service("c", List.of(), List.of(range("net1/10.96.0.0/16")));
        assertThat(MeshState.of(List.of(), List.of(a, sameOnOtherNetwork), NO_POLICIES, "t")
                        .conflicts())
                .isEmpty();
    }

    @Test
    void aStateWithOtherExtensionsKeepsTheRanges() {
        var withExtensions = STATE.withExtensions(Map.of(String.class, "x"));
        assertThat(withExtensions
                        .serviceByVip(NetworkAddress.parse("/10.96.6.1"))
                        .map(Service::hostname))
                .contains("narrow");
    }

    @Test
    void aRangeWithHostBitsOrAnOverlongPrefixIsRefusedNamingIt() {
        assertThatThrownBy(() -> NetworkCidr.of("", IpAddress.parse("10.96.0.1"), 16))
                .hasMessage("10.96.0.1/16 has host bits set after the prefix (expected: 10.96.0.0/16)");
        assertThatThrownBy(() -> NetworkCidr.of("", IpAddress.parse("10.96.0.0"), 33))
                .hasMessage("prefix length 33 for 10.96.0.0 (expected: 0-32 for IPv4)");
        assertThatThrownBy(() -> NetworkCidr.of("", IpAddress.parse("fd00::"), 129))
                .hasMessage("prefix length 129 for fd00:: (expected: 0-128 for IPv6)");
        assertThat(NetworkCidr.of("", IpAddress.parse("10.96.0.1"), 32).isSingleAddress())
                .isTrue();
    }
}
