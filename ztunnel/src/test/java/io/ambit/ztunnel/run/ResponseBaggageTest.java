package io.ambit.ztunnel.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.ztunnel.node.Node;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * ztunnel-reference §2.3: the inbound side answers an accepted CONNECT with {@code 200} and a
 * {@code baggage} header describing the destination workload (ztunnel's ENABLE_RESPONSE_BAGGAGE, on by
 * default); a real ztunnel client takes its {@code destination_*} labels from it when it does not know
 * the destination itself. Addresses 127.133.5.x.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ResponseBaggageTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: client, namespace: shop, serviceAccount: client, node: node-a, workloadIps: ["127.133.5.1"]}
            - name: web-7d9f-abcde
              workloadName: web
              workloadType: Deployment
              namespace: shop
              serviceAccount: web
              node: node-b
              workloadIps: ["127.133.5.2"]
              labels: {app: web, version: v2}
            """;

    @TempDir
    Path dir;

    @Test
    void anAcceptedTunnelCarriesTheDestinationsBaggage() throws Exception {
        Path file = dir.resolve("mesh.yaml");
        Files.writeString(file, MESH);
        HttpServer app = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.133.5.2"), 8080), 8);
        app.start();
        try (var mesh = LocalMesh.start(LocalMesh.Config.of(file, dir.resolve("ca"))
                        .withPorts(Node.Ports.builder().admin(0).dns(0).build()));
                var tls = new ClientTls(TlsSettings.defaults());
                var pool = new HbonePool(
                        PoolConfig.defaults(),
                        tls,
                        SourceCertificates.from(mesh.certificates()),
                        mesh.transport(),
                        mesh.loops())) {
            var key = new PoolKey(
                    SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/client"),
                    Set.of(SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/web")),
                    null,
                    new InetSocketAddress("127.133.5.2", 15008));
            var stream = pool.connect(key, TunnelRequest.to(Authority.parse("127.133.5.2:8080")))
                    .get(20, TimeUnit.SECONDS);
            try {
                var baggage = stream.responseBaggage();
                assertThat(baggage.get("k8s.namespace.name")).contains("shop");
                assertThat(baggage.get("k8s.deployment.name")).contains("web");
                assertThat(baggage.get("service.name")).contains("web");
                assertThat(baggage.get("service.version")).contains("v2");
            } finally {
                stream.channel().close();
            }
        } finally {
            app.stop(0);
        }
    }
}
