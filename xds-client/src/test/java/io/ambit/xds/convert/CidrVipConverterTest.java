package io.ambit.xds.convert;

import static io.ambit.xds.convert.ProtoFixtures.ip;
import static io.ambit.xds.convert.ProtoFixtures.service;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.NetworkCidr;
import io.ambit.xds.proto.workload.Address;
import io.ambit.xds.proto.workload.GatewayAddress;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * workload.proto's {@code NetworkAddress.length} (field 3, new @HEAD 2026-04) on the wire: a length below the
 * address's bit length is a CIDR VIP, the full length or none one address; a length over the family's or host
 * bits after the prefix refuse that resource (an xDS NACK naming it and the field), nothing else.
 */
class CidrVipConverterTest {
    private static final String NAME = "default/web.default.svc.cluster.local";

    private static io.ambit.xds.proto.workload.NetworkAddress.Builder address(String network, String ip, int length) {
        return io.ambit.xds.proto.workload.NetworkAddress.newBuilder()
                .setNetwork(network)
                .setAddress(ip(ip))
                .setLength(length);
    }

    /** {@code ::ffff:v4} as 16 raw bytes (the fixtures' {@code ip()} would write the 4 bytes of IPv4). */
    private static io.ambit.xds.proto.workload.NetworkAddress.Builder mapped(String v4, int length) {
        byte[] b = new byte[16];
        b[10] = (byte) 0xff;
        b[11] = (byte) 0xff;
        ip(v4).copyTo(b, 12);
        return io.ambit.xds.proto.workload.NetworkAddress.newBuilder()
                .setAddress(com.google.protobuf.ByteString.copyFrom(b))
                .setLength(length);
    }

    /** Through the bytes istiod sends: field 3 must survive encoding and decoding. */
    private static AddressConverter.Converted overTheWire(io.ambit.xds.proto.workload.Service s) throws Exception {
        byte[] wire = Address.newBuilder().setService(s).build().toByteArray();
        var decoded = Address.parseFrom(wire);
        assertThat(decoded.getService()
                        .getAddresses(decoded.getService().getAddressesCount() - 1)
                        .hasLength())
                .isEqualTo(s.getAddresses(s.getAddressesCount() - 1).hasLength());
        return AddressConverter.convert(NAME, Any.pack(decoded, "type.googleapis.com"));
    }

    @Test
    void aLengthBelowTheBitLengthIsACidrVipAfterAWireRoundTrip() throws Exception {
        var s = overTheWire(service("default", "web", "10.96.0.1")
                        .addAddresses(address("", "10.96.128.0", 17))
                        .addAddresses(address("net1", "fd00:10::", 64))
                        .addAddresses(address("", "0.0.0.0", 0))
                        .build())
                .service();
        assertThat(s.vips()).containsExactly(NetworkAddress.parse("/10.96.0.1"));
        assertThat(s.cidrVips())
                .containsExactly(
                        NetworkCidr.parseIfCidr("10.96.128.0/17").orElseThrow(),
                        NetworkCidr.parseIfCidr("net1/fd00:10::/64").orElseThrow(),
                        NetworkCidr.parseIfCidr("/0.0.0.0/0").orElseThrow());
    }

    @Test
    void theFullLengthOrNoLengthIsOneAddressAsBefore() throws Exception {
        var s = overTheWire(service("default", "web", "10.96.0.1")
                        .addAddresses(address("", "10.96.0.2", 32))
                        .addAddresses(address("", "fd00::2", 128))
                        .addAddresses(mapped("10.96.0.3", 128))
                        .build())
                .service();
        assertThat(s.vips())
                .containsExactly(
                        NetworkAddress.parse("/10.96.0.1"),
                        NetworkAddress.parse("/10.96.0.2"),
                        NetworkAddress.parse("/fd00::2"),
                        NetworkAddress.of(IpAddress.parse("10.96.0.3")));
        assertThat(s.cidrVips()).isEmpty();
    }

    @Test
    void anIpv4MappedRangeIsTheIpv4RangeItMaps() throws Exception {
        var s = overTheWire(service("default", "web", "10.96.0.1")
                        .addAddresses(mapped("10.97.0.0", 112))
                        .build())
                .service();
        assertThat(s.cidrVips())
                .containsExactly(NetworkCidr.parseIfCidr("10.97.0.0/16").orElseThrow());
    }

    static Stream<Arguments> badLengths() {
        return Stream.of(
                Arguments.of(
                        "IPv4 over 32",
                        address("", "10.96.0.0", 33),
                        "addresses[1]: prefix length 33 for 10.96.0.0" + " (expected: 0-32 for IPv4)"),
                Arguments.of(
                        "IPv6 over 128",
                        address("", "fd00::", 129),
                        "addresses[1]: prefix length 129 for fd00::" + " (expected: 0-128 for IPv6)"),
                Arguments.of(
                        "a huge unsigned length",
                        address("", "10.96.0.0", -2),
                        "addresses[1]: prefix length" + " 4294967294 for 10.96.0.0"),
                Arguments.of(
                        "IPv4 host bits",
                        address("", "10.96.0.1", 16),
                        "addresses[1]: 10.96.0.1/16 has host bits" + " set after the prefix (expected: 10.96.0.0/16)"),
                Arguments.of(
                        "IPv6 host bits",
                        address("", "fd00::1", 64),
                        "addresses[1]: fd00::1/64 has host bits set" + " after the prefix (expected: fd00::/64)"),
                Arguments.of(
                        "an IPv4-mapped length below 96",
                        mapped("10.0.0.0", 80),
                        "addresses[1]:" + " prefix length 80 for IPv4-mapped 10.0.0.0 (expected: 96-128"));
    }

    @ParameterizedTest(name = "{0} refuses the resource, naming it and the field")
    @MethodSource("badLengths")
    void aBadLengthRefusesTheResource(
            String name, io.ambit.xds.proto.workload.NetworkAddress.Builder bad, String expected) {
        assertThatThrownBy(() -> overTheWire(
                        service("default", "web", "10.96.0.1").addAddresses(bad).build()))
                .isInstanceOf(InvalidResourceException.class)
                .hasMessageStartingWith(NAME + ": " + expected);
    }

    @Test
    void aWaypointAddressThatIsARangeIsRefused() throws Exception {
        var waypoint = GatewayAddress.newBuilder()
                .setAddress(address("", "10.0.0.0", 24))
                .build();
        assertThatThrownBy(() -> ServiceConverter.convert(
                        NAME,
                        service("default", "web", "10.96.0.1")
                                .setWaypoint(waypoint)
                                .build()))
                .isInstanceOf(InvalidResourceException.class)
                .hasMessageContaining("waypoint.address: is the range /10.0.0.0/24 (expected: one address");
        var exact = GatewayAddress.newBuilder()
                .setAddress(address("", "10.0.0.9", 32))
                .build();
        assertThat(ServiceConverter.convert(
                                NAME,
                                service("default", "web", "10.96.0.1")
                                        .setWaypoint(exact)
                                        .build())
                        .waypoint()
                        .address())
                .isEqualTo(NetworkAddress.parse("/10.0.0.9"));
    }
}
