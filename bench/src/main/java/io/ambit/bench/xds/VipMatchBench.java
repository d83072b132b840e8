package io.ambit.bench.xds;

import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.match.IpAddress;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.NetworkCidr;
import io.ambit.xds.mesh.Port;
import io.ambit.xds.mesh.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * ztunnel's {@code vip_match} (benches/basic.rs, ztunnel-reference.md §9.1): the service at a destination
 * address, as the outbound path asks once per connection, with 1 to 10,000 services. Each service has one
 * exact VIP (in 10.96.0.0/16) and one CIDR VIP of /28, /24, /22 or /20 (by index, in 11/8, 12/8, 14/8 and
 * 13/8: four prefix lengths in use, as a mesh with a few kinds of ranges has).
 *
 * <ul>
 *   <li>{@code exactHit}: an exact VIP — one hash probe;
 *   <li>{@code cidrHit}: an address in a /20, the shortest length in use — a miss on the exact map, then one
 *       probe per longer length first (the worst hit);
 *   <li>{@code miss}: an address in no VIP — the exact map and every length;
 *   <li>{@code cidrHitScan}: the same hit by scanning every service's ranges for the longest, as ztunnel's
 *       {@code get_by_cidr_vip} does (a reference for what the index saves).
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class VipMatchBench {
    @Param({"1", "100", "1000", "10000"})
    public int services;

    private MeshState state;
    private NetworkAddress exact;
    private NetworkAddress inRange;
    private NetworkAddress nowhere;

    private static final int[] LENGTHS = {28, 24, 22, 20};
    private static final int[] FIRST_OCTET = {11, 12, 14, 13};

    /** The range of service {@code i}: distinct for every i below 4 × 4,096. */
    static NetworkCidr range(int i) {
        int kind = i % LENGTHS.length;
        int length = LENGTHS[kind];
        int slot = i / LENGTHS.length;
        int address = (FIRST_OCTET[kind] << 24) | (slot << (32 - length));
        return NetworkCidr.of("", IpAddress.ofV4(address), length);
    }

    @Setup
    public void setUp() {
        var list = new ArrayList<Service>(services);
        for (int i = 0; i < services; i++) {
            list.add(Service.builder(
                            "svc-" + i, "ns-" + (i % 100), "svc-" + i + ".ns-" + (i % 100) + ".svc.cluster.local")
                    .vips(List.of(NetworkAddress.of(IpAddress.ofV4(0x0a600000 | i))))
                    .cidrVips(List.of(range(i)))
                    .ports(List.of(new Port(80, 8080)))
                    .build());
        }
        state = MeshState.of(List.of(), list, PolicySnapshot.empty(MeshConfig.DEFAULT), "vip_match");
        int half = services / 2;
        exact = NetworkAddress.of(IpAddress.ofV4(0x0a600000 | half));
        // the last service with the shortest range in use (a /20 from 4 services on)
        int target = services - 1;
        while (target > 0 && range(target).prefixLength() != shortest()) {
            target--;
        }
        var r = range(target);
        inRange = NetworkAddress.of(IpAddress.ofV4(r.cidr().address().v4() + 5));
        nowhere = NetworkAddress.of(IpAddress.parse("192.0.2.1"));
        check(exactHit(), "svc-" + half);
        check(cidrHit(), "svc-" + target);
        check(cidrHitScan(), "svc-" + target);
        if (miss().isPresent()) {
            throw new IllegalStateException("miss found " + miss());
        }
    }

    private int shortest() {
        int min = 32;
        for (int i = 0; i < Math.min(services, LENGTHS.length); i++) {
            min = Math.min(min, LENGTHS[i]);
        }
        return min;
    }

    private static void check(Optional<Service> found, String expected) {
        if (found.isEmpty() || !found.get().name().equals(expected)) {
            throw new IllegalStateException("expected " + expected + ", found " + found);
        }
    }

    @Benchmark
    public Optional<Service> exactHit() {
        return state.serviceByVip(exact);
    }

    @Benchmark
    public Optional<Service> cidrHit() {
        return state.serviceByVip(inRange);
    }

    @Benchmark
    public Optional<Service> miss() {
        return state.serviceByVip(nowhere);
    }

    @Benchmark
    public Optional<Service> cidrHitScan() {
        Service best = null;
        int bestLength = -1;
        for (var s : state.services()) {
            for (var r : s.cidrVips()) {
                if (r.prefixLength() > bestLength && r.contains(inRange)) {
                    best = s;
                    bestLength = r.prefixLength();
                }
            }
        }
        return Optional.ofNullable(best);
    }
}
