package io.ambit.xds.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.NetworkCidr;
import io.ambit.xds.mesh.Service;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The local file's VIP forms: {@code network/ip} and a bare IP as before, and a range written {@code ip/N},
 * {@code /ip/N} or {@code network/ip/N} (the last {@code /N}, all digits, after an IP). Every form is
 * checked, the old ones unchanged.
 */
class CidrVipFileTest {
    private static MeshState parse(String vips) throws Exception {
        return LocalMeshFile.parse(
                "services:\n- {name: s, namespace: ns, hostname: s.ns, vips: " + vips + ", ports: {80: 8080}}\n",
                "vips.yaml");
    }

    private static Service only(MeshState state) {
        assertThat(state.services()).hasSize(1);
        return state.services().getFirst();
    }

    static Stream<Arguments> exactForms() {
        return Stream.of(
                Arguments.of("/127.10.0.1", "", "127.10.0.1"),
                Arguments.of("127.10.0.1", "", "127.10.0.1"),
                Arguments.of("net1/127.10.0.1", "net1", "127.10.0.1"),
                Arguments.of("net1/fd00::1", "net1", "fd00::1"),
                Arguments.of("fd00::1", "", "fd00::1"),
                Arguments.of("/fd00::1", "", "fd00::1"),
                Arguments.of("a/b/10.0.0.1", "a/b", "10.0.0.1"),
                Arguments.of("10.0.0.1/32", "", "10.0.0.1"),
                Arguments.of("net1/fd00::1/128", "net1", "fd00::1"));
    }

    @ParameterizedTest(name = "\"{0}\" is the exact VIP {2} on network \"{1}\"")
    @MethodSource("exactForms")
    void exactForms(String text, String network, String ip) throws Exception {
        var s = only(parse("[\"" + text + "\"]"));
        assertThat(s.vips()).containsExactly(new NetworkAddress(network, io.ambit.policy.match.IpAddress.parse(ip)));
        assertThat(s.cidrVips()).isEmpty();
    }

    static Stream<Arguments> rangeForms() {
        return Stream.of(
                Arguments.of("10.96.0.0/16", "", "10.96.0.0/16"),
                Arguments.of("/10.96.0.0/16", "", "10.96.0.0/16"),
                Arguments.of("net1/10.96.0.0/16", "net1", "10.96.0.0/16"),
                Arguments.of("0.0.0.0/0", "", "0.0.0.0/0"),
                Arguments.of("fd00:10::/64", "", "fd00:10::/64"),
                Arguments.of("net1/fd00::/8", "net1", "fd00::/8"),
                Arguments.of("a/b/10.0.0.0/8", "a/b", "10.0.0.0/8"));
    }

    @ParameterizedTest(name = "\"{0}\" is the range {2} on network \"{1}\"")
    @MethodSource("rangeForms")
    void rangeForms(String text, String network, String cidr) throws Exception {
        var s = only(parse("[\"" + text + "\"]"));
        assertThat(s.vips()).isEmpty();
        assertThat(s.cidrVips()).hasSize(1);
        NetworkCidr r = s.cidrVips().getFirst();
        assertThat(r.network()).isEqualTo(network);
        assertThat(r.cidr()).isEqualTo(io.ambit.policy.match.Cidr.parse(cidr));
    }

    static Stream<Arguments> badForms() {
        return Stream.of(
                Arguments.of(
                        "[\"10.96.0.1/16\"]",
                        "vips.yaml:2: Service ns/s.ns: services[0].vips[0]: is"
                                + " \"10.96.0.1/16\": 10.96.0.1/16 has host bits set after the prefix (expected: 10.96.0.0/16)"),
                Arguments.of(
                        "[\"10.96.0.0/33\"]",
                        "vips.yaml:2: Service ns/s.ns: services[0].vips[0]: is"
                                + " \"10.96.0.0/33\": prefix length 33 for 10.96.0.0 (expected: 0-32 for IPv4)"),
                Arguments.of(
                        "[\"fd00::/129\"]",
                        "vips.yaml:2: Service ns/s.ns: services[0].vips[0]: is" + " \"fd00::/129\": prefix length 129"),
                Arguments.of(
                        "[\"10.96.0.0/99999999999\"]",
                        "vips.yaml:2: Service ns/s.ns: services[0].vips[0]: is"
                                + " \"10.96.0.0/99999999999\": prefix length 99999999999 (expected: 0-32)"),
                Arguments.of(
                        "[\"net1/16\"]",
                        "vips.yaml:2: Service ns/s.ns: services[0].vips[0]: is \"net1/16\"" + " (expected: network/ip"),
                Arguments.of(
                        "[\"10.96.0.0/\"]",
                        "vips.yaml:2: Service ns/s.ns: services[0].vips[0]: is"
                                + " \"10.96.0.0/\" (expected: network/ip"),
                Arguments.of(
                        "[\"10.96.0.0/16\", \"/10.96.0.0/16\"]",
                        "vips.yaml:2: Service ns/s.ns:"
                                + " services[0].vips[1]: CIDR VIP /10.96.0.0/16 is already used by Service ns/s.ns at line 2"));
    }

    @ParameterizedTest(name = "{0} is refused with the line and field")
    @MethodSource("badForms")
    void badForms(String vips, String expected) {
        assertThatThrownBy(() -> parse(vips))
                .isInstanceOfSatisfying(InvalidMeshFileException.class, e -> assertThat(e.errors())
                        .extracting(Object::toString)
                        .anySatisfy(m -> assertThat(m).startsWith(expected)));
    }

    @ParameterizedTest(name = "a range claimed by two services: {0}")
    @MethodSource("twoOwners")
    void aRangeClaimedByTwoServicesIsRefused(String second, boolean refused) throws Exception {
        String yaml = "services:\n"
                + "- {name: a, namespace: ns, hostname: a.ns, vips: [\"10.96.0.0/16\"], ports: {80: 80}}\n"
                + "- {name: b, namespace: ns, hostname: b.ns, vips: [\"" + second + "\"], ports: {80: 80}}\n";
        if (refused) {
            assertThatThrownBy(() -> LocalMeshFile.parse(yaml, "two.yaml"))
                    .isInstanceOfSatisfying(InvalidMeshFileException.class, e -> assertThat(e.errors())
                            .extracting(Object::toString)
                            .anySatisfy(m -> assertThat(m)
                                    .startsWith("two.yaml:3: Service ns/b.ns: services[1].vips[0]: CIDR VIP"
                                            + " /10.96.0.0/16 is already used by Service ns/a.ns at line 2")));
        } else {
            assertThat(LocalMeshFile.parse(yaml, "two.yaml").services()).hasSize(2);
        }
    }

    static List<Arguments> twoOwners() {
        return List.of(
                Arguments.of("/10.96.0.0/16", true),
                Arguments.of("10.96.0.0/24", false), // nested: the longer one wins at lookup
                Arguments.of("10.96.0.0", false), // the range's first address as an exact VIP wins over it
                Arguments.of("net1/10.96.0.0/16", false));
    }
}
