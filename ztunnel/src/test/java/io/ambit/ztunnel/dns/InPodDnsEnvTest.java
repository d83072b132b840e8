package io.ambit.ztunnel.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** ztunnel's DNS environment: DNS_CAPTURE, DNS_PROXY_ADDR, and where the upstreams come from. */
class InPodDnsEnvTest {
    @TempDir
    Path dir;

    Map<String, String> env(String... kv) throws Exception {
        var resolv = dir.resolve("resolv.conf");
        Files.writeString(resolv, "nameserver 10.96.0.10\n");
        var m = new java.util.HashMap<String, String>(Map.of("AMBIT_RESOLV_CONF", resolv.toString()));
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void onByDefaultOnThePodsLoopbackWithTheResolvConfNameservers() throws Exception {
        var dns = InPodDns.fromEnvironment(env()).orElseThrow();
        assertThat(dns.address()).isEqualTo(new InetSocketAddress("127.0.0.1", 15053));
        assertThat(dns.settings().upstreams()).containsExactly(new InetSocketAddress("10.96.0.10", 53));
        assertThat(dns.settings().cacheSize()).isEqualTo(4096);
    }

    @Test
    void dnsCaptureFalseTurnsItOff() throws Exception {
        assertThat(InPodDns.fromEnvironment(env("DNS_CAPTURE", "false"))).isEmpty();
        assertThat(InPodDns.fromEnvironment(env("DNS_CAPTURE", " TRUE "))).isPresent();
    }

    @ParameterizedTest(name = "DNS_PROXY_ADDR={0} -> {1}")
    @CsvSource({"127.0.0.1:5353, 127.0.0.1 5353", "'[::1]:15053', 0:0:0:0:0:0:0:1 15053"})
    void theAddressCanBeMoved(String value, String expected) throws Exception {
        var a = InPodDns.fromEnvironment(env("DNS_PROXY_ADDR", value))
                .orElseThrow()
                .address();
        assertThat(a.getAddress().getHostAddress() + " " + a.getPort()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "DNS_PROXY_ADDR={0} -> also {1}")
    @CsvSource({
        "'', '[::1]:15053'", // the default: a dual-stack pod's IPv6 DNS is redirected to [::1]
        "127.0.0.1:5353, '[::1]:5353'",
        "'[::1]:15053', 127.0.0.1:15053",
        "10.0.0.7:15053, none", // an address named explicitly: that one only
        "'[fd00::7]:15053', none",
    })
    void aLoopbackAddressHasItsOtherFamilysLoopbackForDualStackPods(String value, String expected) throws Exception {
        var other = InPodDns.fromEnvironment(env("DNS_PROXY_ADDR", value))
                .orElseThrow()
                .otherLoopback();
        assertThat(
                        other == null
                                ? "none"
                                : io.ambit.hbone.server.Authority.of(other).toString())
                .isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}={1} is refused by name")
    @CsvSource({
        "DNS_CAPTURE, maybe, 'DNS_CAPTURE is \"maybe\" (expected: true or false)'",
        "DNS_PROXY_ADDR, localhost:15053, 'DNS_PROXY_ADDR is \"localhost:15053\" (expected: ip:port'",
        "DNS_PROXY_ADDR, 127.0.0.1, 'DNS_PROXY_ADDR is \"127.0.0.1\"'",
        "DNS_PROXY_ADDR, 127.0.0.1:70000, 'DNS_PROXY_ADDR is \"127.0.0.1:70000\"'",
        "DNS_PROXY_ADDR, ::1:53, 'DNS_PROXY_ADDR is \"::1:53\"'",
    })
    void badValuesAreRefused(String name, String value, String message) {
        assertThatThrownBy(() -> InPodDns.fromEnvironment(env(name, value)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void aMissingResolvConfLeavesNoUpstreamAndAnUnreadableOneIsRefused() throws Exception {
        var missing = InPodDns.fromEnvironment(
                env("AMBIT_RESOLV_CONF", dir.resolve("none").toString()));
        assertThat(missing.orElseThrow().settings().upstreams()).isEmpty();
        assertThatThrownBy(() -> InPodDns.fromEnvironment(env("AMBIT_RESOLV_CONF", dir.toString())))
                .hasMessageContaining("AMBIT_RESOLV_CONF: cannot read " + dir);
    }
}
