package io.ambit.hbone.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.hbone.server.Authority;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The CONNECT {@code :authority} parser: a value or an {@link IllegalArgumentException} naming the
 * authority and the expected forms, never anything else; what it accepts prints back to a string that
 * parses to the same authority.
 */
class AuthorityFuzzTest {

    @Property(seed = FuzzInputs.SEED)
    void anyTextIsEitherAnAuthorityOrAClearError(@ForAll("authorities") String text) {
        Authority a;
        try {
            a = Authority.parse(text);
        } catch (IllegalArgumentException e) {
            FuzzInputs.outcome(false);
            assertThat(e.getMessage())
                    .startsWith("authority \"")
                    .contains("(expected ip:port, [ipv6]:port or host:port)");
            assertThat(e.getMessage().chars()).noneMatch(c -> c < 0x20);
            return;
        }
        FuzzInputs.outcome(true);
        assertThat(a.port()).isBetween(1, 65535);
        assertThat(Authority.parse(a.toString())).isEqualTo(a);
        if (a.isIp()) {
            assertThat(a.socketAddress()).isPresent();
        } else {
            assertThat(a.host()).matches("[A-Za-z0-9.-]{1,253}");
        }
    }

    @Property(seed = FuzzInputs.SEED)
    void everySocketAddressMakesAnAuthorityThatParsesBack(@ForAll("ipBytes") byte[] ip, @ForAll("ports") int port)
            throws UnknownHostException {
        InetSocketAddress address = new InetSocketAddress(InetAddress.getByAddress(ip), port);

        Authority a = Authority.of(address);

        assertThat(Authority.parse(a.toString())).isEqualTo(a);
        assertThat(a.socketAddress()).contains(address);
    }

    @Property(seed = FuzzInputs.SEED, tries = 50)
    void overlongAuthoritiesAreRefusedByLength(@ForAll("authorities") String text) {
        String longText = "a".repeat(262) + text;

        assertThatThrownBy(() -> Authority.parse(longText))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("longer than 261 characters");
    }

    /** Regression: a tab or newline in the port was copied into the error message (and so into logs). */
    @Example
    void controlCharactersInThePortNeverReachTheMessage() {
        assertThatThrownBy(() -> Authority.parse("a:\t\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the port \"??\"")
                .satisfies(e -> assertThat(e.getMessage().chars()).noneMatch(c -> c < 0x20));
    }

    @Provide
    Arbitrary<String> authorities() {
        Arbitrary<String> host = Arbitraries.oneOf(
                FuzzInputs.headerText("0123456789.:abcdefABCDEF[]%-", 45),
                ipBytes().map(AuthorityFuzzTest::literal),
                Arbitraries.strings().withCharRange('a', 'z').withChars(".-0").ofMaxLength(70));
        Arbitrary<String> port = Arbitraries.oneOf(
                Arbitraries.integers().between(-1, 70000).map(String::valueOf),
                FuzzInputs.headerText("0123456789+-", 7));
        return Combinators.combine(host, port, Arbitraries.of(":", "", "::", "]:"))
                .as((h, p, sep) -> h + sep + p);
    }

    @Provide
    Arbitrary<byte[]> ipBytes() {
        return Arbitraries.oneOf(
                Arbitraries.bytes().array(byte[].class).ofSize(4),
                Arbitraries.bytes().array(byte[].class).ofSize(16));
    }

    @Provide
    Arbitrary<Integer> ports() {
        return Arbitraries.integers().between(1, 65535);
    }

    private static String literal(byte[] ip) {
        try {
            String s = InetAddress.getByAddress(ip).getHostAddress();
            return ip.length == 16 ? "[" + s + "]" : s;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
