package io.ambit.hbone.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The CONNECT header parsers: {@code :authority}, {@code forwarded}, {@code baggage}, {@code traceparent}. */
final class HeaderParsersTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            an IPv4 address and port             | 10.244.0.5:8080          | 10.244.0.5:8080          | true
            an IPv6 address in brackets          | [fd00::1]:80             | [fd00::1]:80             | true
            IPv6 is written in canonical form    | [FD00:0:0:0:0:0:0:1]:80  | [fd00::1]:80             | true
            a service host name                  | httpbin.ns.svc.cluster.local:8000 | httpbin.ns.svc.cluster.local:8000 | false
            the top port                         | 10.0.0.1:65535           | 10.0.0.1:65535           | true
            """)
    void authoritiesParse(String name, String text, String canonical, boolean ip) {
        Authority a = Authority.parse(text);
        assertThat(a).hasToString(canonical);
        assertThat(a.isIp()).isEqualTo(ip);
        assertThat(Authority.parse(canonical)).isEqualTo(a);
    }

    @ParameterizedTest(name = "{0} is rejected")
    @CsvSource(delimiter = '|', textBlock = """
            an empty authority                   | ''                      | it is empty
            no port                              | 10.0.0.1                | there is no port
            port 0                               | 10.0.0.1:0              | the port "0" is not 1-65535
            a port with a leading zero           | 10.0.0.1:080            | the port "080" is not 1-65535
            a port over 65535                    | 10.0.0.1:65536          | the port "65536" is not 1-65535
            a signed port                        | 10.0.0.1:+80            | the port "+80" is not a decimal number
            unbracketed IPv6                     | fd00::1:80              | an IPv6 address must be in brackets
            an IPv6 zone                         | [fe80::1%eth0]:80       | is not an IPv6 address
            a bracketed IPv4                     | [10.0.0.1]:80           | is not an IPv6 address
            an octal-looking octet               | 10.0.0.01:80            | is not an IPv4 address
            five octets                          | 1.2.3.4.5:80            | is not an IPv4 address
            user info                            | a@10.0.0.1:80           | the host name contains '@'
            a NUL in the host                    | a\u0000b:80             | is not
            an empty label                       | a..b:80                 | the host name has an empty label
            """)
    void badAuthorities(String name, String text, String why) {
        String input = text.replace("\\u0000", "\u0000");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Authority.parse(input))
                .withMessageContaining(why.equals("is not") ? "expected ip:port" : why);
    }

    @Test
    void anAuthorityForASocketAddress() {
        assertThat(Authority.of(new InetSocketAddress("127.0.0.1", 15008))).hasToString("127.0.0.1:15008");
        assertThat(Authority.of(new InetSocketAddress("::1", 15008))).hasToString("[::1]:15008");
    }

    @Test
    void forwardedAsZtunnelSendsIt() {
        String header = Forwarded.format("10.0.0.9:41234", "httpbin.default.svc.cluster.local");
        assertThat(header).isEqualTo("for=\"10.0.0.9:41234\";host=httpbin.default.svc.cluster.local");
        Forwarded f = Forwarded.parse(header).orElseThrow();
        assertThat(f.forAddress()).contains("10.0.0.9:41234");
        assertThat(f.host()).contains("httpbin.default.svc.cluster.local");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            a quoted IPv6 for                      | for="[2001:db8::1]:4711"        | [2001:db8::1]:4711 | true
            several elements: the first counts     | 'for=1.2.3.4, for=5.6.7.8'      | 1.2.3.4            | true
            parameter names are case-insensitive   | FOR=1.2.3.4;Host=x              | 1.2.3.4            | true
            escapes in quoted strings              | 'for="a\\"b"'                   | a"b                | true
            an unterminated quote                  | for="1.2.3.4                    |                    | false
            a missing value                        | for=                            |                    | false
            a repeated parameter                   | for=a;for=b                     |                    | false
            trailing garbage                       | for=a b                         |                    | false
            """)
    void forwardedParsing(String name, String header, String forValue, boolean valid) {
        assertThat(Forwarded.parse(header).isPresent()).isEqualTo(valid);
        if (valid) {
            assertThat(Forwarded.parse(header).flatMap(Forwarded::forAddress)).contains(forValue);
        }
    }

    @Test
    void baggageRoundTripsAndSkipsBadMembers() {
        Map<String, String> entries = new LinkedHashMap<>();
        entries.put("k8s.namespace.name", "default");
        entries.put("service.name", "sleep app");
        entries.put("service.version", "v1,2;3%");
        String header = new Baggage(entries).format();
        assertThat(Baggage.parse(header).entries()).isEqualTo(entries);

        Baggage mixed = Baggage.parse("a=1, =nokey, b=%zz, c = 3 ;prop=x, d=%00, a=2");
        assertThat(mixed.entries()).containsExactly(Map.entry("a", "1"), Map.entry("c", "3"));
        assertThat(Baggage.parse("x=" + "y".repeat(9000))).isEqualTo(Baggage.EMPTY);
        assertThat(Baggage.parse(null)).isEqualTo(Baggage.EMPTY);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            a version-00 traceparent              | 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 | true
            a later version with more fields      | 01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-xyz | true
            version ff                            | ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 | false
            an all-zero trace id                  | 00-00000000000000000000000000000000-b7ad6b7169203331-01 | false
            an all-zero parent id                 | 00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01 | false
            upper-case hex                        | 00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01 | false
            version 00 with extra fields          | 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x | false
            too short                             | 00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033-01 | false
            """)
    void traceParents(String name, String header, boolean valid) {
        assertThat(TraceParent.parse(header).isPresent()).isEqualTo(valid);
    }

    @Test
    void aRandomTraceParentIsWellFormed() {
        TraceParent t = TraceParent.random();
        assertThat(t.format()).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-00");
        assertThat(TraceParent.parse(t.format())).contains(t);
    }
}
