package io.ambit.ztunnel.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.xds.mesh.MeshState;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The mesh's answers without sockets: which names reach which service, and what goes upstream. */
class MeshResolverTest {
    final MeshState state = FixedMesh.standard();
    final MeshResolver resolver = new MeshResolver();

    String answer(String client, String name, int type) {
        var records = resolver.resolve(state, FixedMesh.client(state, client), name, type, 1);
        if (records == null) {
            return "upstream";
        }
        var out = new StringBuilder();
        for (var r : records) {
            out.append(out.isEmpty() ? "" : " ").append(r.type() == 5 ? "CNAME" : r.rdata().length == 4 ? "A" : "AAAA");
        }
        return out.isEmpty() ? "empty" : out.toString();
    }

    @ParameterizedTest(name = "from {0}: {1} type {2} -> {3}")
    @CsvSource({
        "sleep, httpbin, 1, CNAME A",
        "sleep, httpbin.default, 1, CNAME A",
        "sleep, httpbin.default.svc, 1, CNAME A",
        "sleep, httpbin.default.svc.cluster.local, 1, A",
        "sleep, httpbin.default.svc.cluster.local, 28, AAAA",
        "sleep, httpbin.default.default.svc.cluster.local, 1, CNAME A",
        "sleep, httpbin.default.svc.cluster.local, 33, upstream",
        "insider, httpbin, 1, upstream", // a bare name expands in the client's own namespace only
        "insider, httpbin.default, 1, CNAME A",
        "sleep, secret.private.svc.cluster.local, 1, upstream",
        "insider, secret, 1, CNAME A",
        "sleep, a.example.com, 1, A",
        "sleep, a.b.example.com, 1, A",
        "sleep, example.com, 1, upstream",
        "sleep, a.example.com, 28, empty", // the wildcard exists but has no v6 VIP
        "sleep, db.default.svc.cluster.local, 1, A A",
        "sleep, ext.example.org, 1, upstream",
        "sleep, nothing.default.svc.cluster.local, 1, upstream",
    })
    void answers(String client, String name, int type, String expected) {
        assertThat(answer(client, name, type)).isEqualTo(expected);
    }

    @Test
    void aClientOnAnotherNetworkSeesNoVipOfTheDefaultOne() {
        var elsewhere =
                FixedMesh.client(state, "sleep").toBuilder().network("net2").build();
        var records = resolver.resolve(state, elsewhere, "httpbin.default.svc.cluster.local", 1, 1);
        assertThat(records).isEmpty();
    }

    @Test
    void theClusterDomainComesFromTheHostnames() {
        var idx = new HostIndex(state);
        assertThat(idx.clusterDomains).containsExactly("cluster.local");
        assertThat(MeshResolver.candidates(idx, "svc", "ns")).containsExactly("svc", "svc.ns.svc.cluster.local");
    }

    @Test
    void resolvConfNameserversAreReadAndABadOneIsNamed(@TempDir Path dir) throws Exception {
        var good = dir.resolve("good.conf");
        Files.writeString(
                good,
                "# comment\nsearch default.svc.cluster.local\nnameserver 10.96.0.10\n"
                        + "nameserver fd00::a\nnameserver 1.1.1.1\nnameserver 8.8.8.8\noptions ndots:5\n");
        assertThat(DnsSettings.nameservers(good))
                .extracting(a -> a.getAddress().getHostAddress() + ":" + a.getPort())
                .containsExactly("10.96.0.10:53", "fd00:0:0:0:0:0:0:a:53", "1.1.1.1:53");
        var bad = dir.resolve("bad.conf");
        Files.writeString(bad, "nameserver 10.96.0.10\nnameserver dns.example.com\n");
        assertThatThrownBy(() -> DnsSettings.nameservers(bad))
                .hasMessageContaining("line 2")
                .hasMessageContaining("dns.example.com")
                .hasMessageContaining("expected: an IPv4 or IPv6 address");
    }
}
