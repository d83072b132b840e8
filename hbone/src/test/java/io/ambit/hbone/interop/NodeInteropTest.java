package io.ambit.hbone.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.HboneStream;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.server.ConnectRequest;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.ExternalProcess;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.Ids;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.StreamIo;
import io.ambit.hbone.testsupport.TcpServer;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.testsupport.TestPki;
import io.ambit.hbone.testsupport.UpstreamConnector;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.TlsSettings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Node.js's http2 module as an independent HBONE peer: client against our server, server for our client. */
@ExtendWith(NoLeaks.class)
final class NodeInteropTest {
    private static final String NODE = "/usr/bin/node";
    private static TestLoops loops;
    private static TcpServer echo;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(ExternalProcess.available(NODE), "node is not installed at " + NODE);
        loops = TestLoops.start();
        echo = TcpServer.start(loops, TcpServer.Mode.ECHO);
    }

    @AfterAll
    static void stop() {
        if (loops != null) {
            echo.close();
            loops.close();
        }
    }

    @Test
    void nodeClientTunnelsManyStreamsOverOneConnectionToOurServer() throws Exception {
        UpstreamConnector handler = new UpstreamConnector(loops.transport);
        try (HboneFixture hbone = HboneFixture.start(loops, handler)) {
            TestPki.PemFiles client = TestPki.writePem(hbone.clientCert, dir.resolve("node-client"));
            try (ExternalProcess node = ExternalProcess.start(List.of(
                    NODE,
                    script("hbone-client.js"),
                    Integer.toString(hbone.server.localAddress().getPort()),
                    client.key().toString(),
                    client.chain().toString(),
                    client.ca().toString(),
                    Ids.SERVER.toString(),
                    Authority.of(echo.address()).toString(),
                    "20",
                    "100000"))) {
                String result = node.awaitOutput();

                assertThat(result)
                        .contains(
                                "\"ok\":true",
                                "\"streams\":20",
                                "\"bytes\":2000000",
                                "\"alpn\":\"h2\"",
                                "\"protocol\":\"TLSv1.3\"",
                                "URI:" + Ids.SERVER);
                assertThat(result).containsPattern("\"cipher\":\"TLS_AES_(128|256)_GCM_SHA(256|384)\"");
            }
            assertThat(hbone.server.stats().handshakes()).isEqualTo(1);
            assertThat(hbone.server.stats().accepted()).isEqualTo(20);
            ConnectRequest seen = handler.requests.take();
            assertThat(seen.peer().identity()).isEqualTo(Ids.CLIENT);
            assertThat(seen.peer().namedGroup()).isEqualTo("X25519"); // Node's OpenSSL has no ML-KEM
            assertThat(seen.baggage().get("service.name")).contains("node-client");
            assertThat(seen.forwarded()).isPresent();
            assertThat(seen.traceParent()).isPresent();
        }
    }

    @Test
    void nodeRequestsThatAreNotHboneAreAnswered400() throws Exception {
        UpstreamConnector handler = new UpstreamConnector(loops.transport);
        try (HboneFixture hbone = HboneFixture.start(loops, handler)) {
            TestPki.PemFiles client = TestPki.writePem(hbone.clientCert, dir.resolve("node-status"));
            for (List<String> request : List.of(List.of("GET", "-"), List.of("CONNECT", "no-port"))) {
                try (ExternalProcess node = ExternalProcess.start(List.of(
                        NODE,
                        script("hbone-status.js"),
                        Integer.toString(hbone.server.localAddress().getPort()),
                        client.key().toString(),
                        client.chain().toString(),
                        client.ca().toString(),
                        request.get(0),
                        request.get(1)))) {
                    assertThat(node.awaitOutput()).as(request.toString()).contains("\"status\":400");
                }
            }
            assertThat(handler.calls).hasValue(0);
        }
    }

    @Test
    void ourPoolTunnelsThroughANodeServer() throws Exception {
        TestPki pki = TestPki.create(Ids.TRUST_DOMAIN);
        TestPki.PemFiles server = TestPki.writePem(pki.issue(Ids.SERVER), dir.resolve("node-server"));
        var clientCert = pki.issue(Ids.CLIENT);
        try (ExternalProcess node = ExternalProcess.start(List.of(
                        NODE,
                        script("hbone-server.js"),
                        server.key().toString(),
                        server.chain().toString(),
                        server.ca().toString()));
                ClientTls tls = new ClientTls(TlsSettings.defaults());
                HbonePool pool = new HbonePool(
                        PoolConfig.defaults(),
                        tls,
                        SourceCertificates.of(() -> clientCert),
                        loops.transport,
                        loops.group)) {
            int port = port(node.nextLine());
            PoolKey key = new PoolKey(Ids.CLIENT, Set.of(Ids.SERVER), null, new InetSocketAddress("127.0.0.1", port));

            List<byte[]> sent = new ArrayList<>();
            List<CompletableFuture<byte[]>> echoed = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                HboneStream stream = Await.get(pool.connect(
                        key,
                        TunnelRequest.to(Authority.parse("10.0.0." + i + ":8080"))
                                .withBaggage("service.name=ambit")));
                assertThat(stream.responseHeaders().get("x-peer").toString()).contains("URI:" + Ids.CLIENT);
                assertThat(stream.responseHeaders().get("x-authority").toString())
                        .isEqualTo("10.0.0." + i + ":8080");
                assertThat(stream.peer().identity()).isEqualTo(Ids.SERVER);
                byte[] data = new byte[50_000 + i];
                new Random(i).nextBytes(data);
                sent.add(data);
                echoed.add(StreamIo.exchange(stream, data));
            }
            for (int i = 0; i < sent.size(); i++) {
                assertThat(Await.get(echoed.get(i))).isEqualTo(sent.get(i));
            }
            assertThat(pool.stats().dials()).isEqualTo(1);
            node.closeStdin("");
            assertThat(node.nextLine()).isEqualTo("{\"sessions\":1,\"streams\":30}");
        }
    }

    private static int port(String line) {
        Matcher m = Pattern.compile("\\{\"port\":(\\d+)}").matcher(line);
        assertThat(m.matches()).as(line).isTrue();
        return Integer.parseInt(m.group(1));
    }

    static String script(String name) throws Exception {
        return Path.of(NodeInteropTest.class.getResource("/interop/" + name).toURI())
                .toString();
    }
}
