package io.ambit.xds.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.match.IpAddress;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.NetworkCidr;
import io.ambit.xds.mesh.Port;
import io.ambit.xds.mesh.Service;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The VIP index of {@link MeshState} against a brute-force model: for any services with exact VIPs and CIDR
 * VIPs on two networks, in both families, and any address, {@code serviceByVip} is the service with that exact
 * VIP, else the one whose range on the same network holds the address with the longest prefix, else none. The
 * addresses are drawn from a small space so that ranges nest, overlap and hit often.
 */
class CidrIndexPropertyTest {
    private static final PolicySnapshot NO_POLICIES = PolicySnapshot.empty(MeshConfig.DEFAULT);

    record Vip(String network, IpAddress ip, int length) {
        boolean exact() {
            return length == ip.bitLength();
        }
    }

    record Query(String network, IpAddress ip) {}

    /** Addresses in 10.0.0.0/24 and fd00::/120 only: overlaps everywhere. */
    private static Arbitrary<IpAddress> ip() {
        var v4 = Arbitraries.integers().between(0, 255).map(i -> IpAddress.ofV4(0x0a000000 | i));
        var v6 = Arbitraries.integers().between(0, 255).map(i -> IpAddress.ofV6(0xfd00_0000_0000_0000L, i));
        return Arbitraries.oneOf(v4, v6);
    }

    private static Arbitrary<String> network() {
        return Arbitraries.of("", "net1");
    }

    /** A range of the address's own prefix (host bits cleared), from /0 up to the full length. */
    private static Arbitrary<Vip> vip() {
        return Combinators.combine(network(), ip(), Arbitraries.integers().between(0, 128))
                .as((net, ip, n) -> {
                    int length = ip.isV4() ? 16 + n % 17 : 112 + n % 17; // around the /24 and /120 spaces
                    if (n % 7 == 0) {
                        length = 0; // a catch-all now and then
                    }
                    var c = new io.ambit.policy.match.Cidr(ip, length);
                    return new Vip(net, c.address(), length);
                });
    }

    @Provide
    Arbitrary<List<List<Vip>>> services() {
        return vip().list().ofMinSize(1).ofMaxSize(4).list().ofMinSize(0).ofMaxSize(40);
    }

    @Provide
    Arbitrary<List<Query>> queries() {
        return Combinators.combine(network(), ip())
                .as(Query::new)
                .list()
                .ofMinSize(1)
                .ofMaxSize(30);
    }

    @Property(tries = 300, seed = FuzzInputs.SEED)
    void theIndexAgreesWithAScanOfEveryService(
            @ForAll("services") List<List<Vip>> vipsPerService, @ForAll("queries") List<Query> queries) {
        // one owner per exact VIP and per range, as a valid mesh has: later duplicates are dropped
        var taken = new HashSet<Vip>();
        var services = new ArrayList<Service>();
        for (int i = 0; i < vipsPerService.size(); i++) {
            var exact = new ArrayList<NetworkAddress>();
            var ranges = new ArrayList<NetworkCidr>();
            for (var v : vipsPerService.get(i)) {
                if (!taken.add(v)) {
                    continue;
                }
                if (v.exact()) {
                    exact.add(new NetworkAddress(v.network(), v.ip()));
                } else {
                    ranges.add(NetworkCidr.of(v.network(), v.ip(), v.length()));
                }
            }
            services.add(Service.builder("s" + i, "ns", "s" + i + ".ns")
                    .vips(exact)
                    .cidrVips(ranges)
                    .ports(List.of(new Port(80, 80)))
                    .build());
        }
        var state = MeshState.of(List.of(), services, NO_POLICIES, "property");
        for (var q : queries) {
            var at = new NetworkAddress(q.network(), q.ip());
            assertThat(state.serviceByVip(at).orElse(null))
                    .as("service at " + at)
                    .isSameAs(model(services, at));
        }
    }

    /** Every service, every VIP: the exact one, else the longest range holding the address. */
    private static Service model(List<Service> services, NetworkAddress at) {
        for (var s : services) {
            if (s.vips().contains(at)) {
                return s;
            }
        }
        Service best = null;
        int bestLength = -1;
        for (var s : services) {
            for (var r : s.cidrVips()) {
                if (r.network().equals(at.network()) && r.cidr().contains(at.ip()) && r.prefixLength() > bestLength) {
                    best = s;
                    bestLength = r.prefixLength();
                }
            }
        }
        return best;
    }
}
