package io.ambit.ztunnel.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.pool.TunnelRejectedException;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.ztunnel.node.Node;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * ztunnel-reference §1.5 / checklist 7: the inbound HBONE side takes a tunnel only to the address the
 * client dialled — the socket's local IP must equal the {@code :authority} IP, else {@code 400} (§2.4).
 * Otherwise a peer that may reach one pod's 15008 could name a neighbour on the same node as the
 * authority and reach it under the first pod's listener and certificate. A mesh client (a certificate
 * from the mesh CA) dials pod A's 15008 on 127.133.4.2 and asks for pod B (127.133.4.3): 400; asked for
 * pod A itself it gets past the check (503: no app listens there).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AuthorityCheckTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: client, namespace: shop, serviceAccount: client, node: node-a, workloadIps: ["127.133.4.1"]}
            - {name: pod-a, namespace: shop, serviceAccount: a, node: node-b, workloadIps: ["127.133.4.2"]}
            - {name: pod-b, namespace: shop, serviceAccount: b, node: node-b, workloadIps: ["127.133.4.3"]}
            """;

    @TempDir
    Path dir;

    @Test
    void aTunnelIsOnlyForTheAddressTheClientDialled() throws Exception {
        Path file = dir.resolve("mesh.yaml");
        Files.writeString(file, MESH);
        var client = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/client");
        var podA = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/a");
        try (var mesh = LocalMesh.start(LocalMesh.Config.of(file, dir.resolve("ca"))
                        .withPorts(Node.Ports.builder().admin(0).dns(0).build()));
                var tls = new ClientTls(TlsSettings.defaults());
                var pool = new HbonePool(
                        PoolConfig.defaults(),
                        tls,
                        SourceCertificates.from(mesh.certificates()),
                        mesh.transport(),
                        mesh.loops())) {
            var key = new PoolKey(client, Set.of(podA), null, new InetSocketAddress("127.133.4.2", 15008));

            assertThat(status(pool, key, "127.133.4.3:8080"))
                    .as("pod B named through pod A's listener")
                    .isEqualTo(400);
            assertThat(status(pool, key, "127.133.4.2:8080"))
                    .as("pod A itself passes the check; nothing listens on 8080")
                    .isEqualTo(503);
        }
    }

    /** The status the server answered the CONNECT with (a 200 would be a test failure). */
    private static int status(HbonePool pool, PoolKey key, String authority) throws Exception {
        Throwable failure = catchThrowable(() -> pool.connect(key, TunnelRequest.to(Authority.parse(authority)))
                .get(20, TimeUnit.SECONDS)
                .channel()
                .close());
        assertThat(failure).as("CONNECT " + authority).isInstanceOf(ExecutionException.class);
        assertThat(failure.getCause()).isInstanceOf(TunnelRejectedException.class);
        return ((TunnelRejectedException) failure.getCause()).status();
    }
}
