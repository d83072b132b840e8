package io.ambit.hbone.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.ExternalProcess;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.Ids;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.StreamEcho;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.testsupport.TestPki;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.TlsSettings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * ztunnel-reference §2.2 / checklist item 5, read off the wire by an independent HTTP/2 stack (Node's
 * http2): what our HBONE server and our HBONE client advertise in SETTINGS, and the connection-level window
 * each grants with its first WINDOW_UPDATE. Real ztunnel advertises the same numbers; a peer tuned for them
 * (4 MiB stream / 16 MiB connection windows, 1 MiB frames, 200 streams on the server) sees no difference.
 * Addresses 127.133.0.x.
 */
@ExtendWith(NoLeaks.class)
final class Http2SettingsInteropTest {
    private static final String NODE = "/usr/bin/node";
    private static final String NGHTTP = "/usr/bin/nghttp";
    private static final int MIB = 1024 * 1024;
    private static TestLoops loops;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        Assumptions.assumeTrue(ExternalProcess.available(NODE), "node is not installed at " + NODE);
        loops = TestLoops.start();
    }

    @AfterAll
    static void stop() {
        if (loops != null) {
            loops.close();
        }
    }

    @Test
    void ourServerAdvertisesZtunnelsSettingsAndA16MibConnectionWindow() throws Exception {
        var config = HboneServerConfig.defaults(new InetSocketAddress("127.133.0.1", 0));
        try (HboneFixture hbone = HboneFixture.builder(loops, new StreamEcho())
                .serverConfig(config)
                .start()) {
            TestPki.PemFiles client = TestPki.writePem(hbone.clientCert, dir.resolve("settings-client"));
            try (ExternalProcess node = ExternalProcess.start(List.of(
                    NODE,
                    NodeInteropTest.script("hbone-settings.js"),
                    "client",
                    "127.133.0.1",
                    Integer.toString(hbone.server.localAddress().getPort()),
                    client.key().toString(),
                    client.chain().toString(),
                    client.ca().toString()))) {
                String seen = node.awaitOutput();

                assertThat(setting(seen, "maxConcurrentStreams")).as(seen).isEqualTo(200);
                assertThat(setting(seen, "initialWindowSize")).as(seen).isEqualTo(4 * MIB);
                assertThat(setting(seen, "maxFrameSize")).as(seen).isEqualTo(MIB);
                assertThat(setting(seen, "maxHeaderListSize")).as(seen).isEqualTo(64 * 1024);
                assertThat(number(seen, "connectionWindow")).as(seen).isEqualTo(16 * MIB);
            }
        }
    }

    /**
     * nghttp's frame log: the WINDOW_UPDATEs on stream 0 add up to 16 MiB - 65,535. (Netty's frame codec
     * grants 8,257,538 by itself; counted on top of that, the window used to be about 24 MiB.)
     */
    @Test
    void nghttpSeesTheConnectionWindowOpenedToExactly16Mib() throws Exception {
        Assumptions.assumeTrue(ExternalProcess.available(NGHTTP), "nghttp is not installed at " + NGHTTP);
        var config = HboneServerConfig.defaults(new InetSocketAddress("127.133.0.3", 0));
        try (HboneFixture hbone = HboneFixture.builder(loops, new StreamEcho())
                .serverConfig(config)
                .start()) {
            TestPki.PemFiles client = TestPki.writePem(hbone.clientCert, dir.resolve("nghttp-client"));
            // A GET is not HBONE: the server answers 400 and nghttp ends; the frames before are what counts.
            try (ExternalProcess nghttp = ExternalProcess.start(List.of(
                    NGHTTP,
                    "-nv",
                    "-t",
                    "10",
                    "--cert",
                    client.chain().toString(),
                    "--key",
                    client.key().toString(),
                    "https://127.133.0.3:" + hbone.server.localAddress().getPort() + "/"))) {
                String frames = nghttp.awaitOutput();

                assertThat(frames).as(frames).contains("[SETTINGS_INITIAL_WINDOW_SIZE(0x04):4194304]");
                long increments = Pattern.compile(
                                "recv WINDOW_UPDATE frame <[^>]*stream_id=0>\\s*\\(window_size_increment=(\\d+)\\)")
                        .matcher(frames)
                        .results()
                        .mapToLong(r -> Long.parseLong(r.group(1)))
                        .sum();
                assertThat(65535 + increments).as(frames).isEqualTo(16 * MIB);
            }
        }
    }

    @Test
    void ourClientAdvertisesZtunnelsSettingsNoPushAndA16MibConnectionWindow() throws Exception {
        TestPki pki = TestPki.create(Ids.TRUST_DOMAIN);
        TestPki.PemFiles server = TestPki.writePem(pki.issue(Ids.SERVER), dir.resolve("settings-server"));
        var clientCert = pki.issue(Ids.CLIENT);
        try (ExternalProcess node = ExternalProcess.start(List.of(
                        NODE,
                        NodeInteropTest.script("hbone-settings.js"),
                        "server",
                        "127.133.0.2",
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
            int port = (int) number(node.nextLine(), "port");
            var key = new PoolKey(Ids.CLIENT, Set.of(Ids.SERVER), null, new InetSocketAddress("127.133.0.2", port));
            // The tunnel's fate does not matter (the script exits once it has read our SETTINGS); dialling
            // is what makes the client speak.
            var stream = pool.connect(key, TunnelRequest.to(Authority.parse("10.0.0.1:8080")));
            String seen = node.nextLine();
            try {
                stream.get(Await.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                        .channel()
                        .close();
            } catch (ExecutionException e) {
                // the script went away first: fine
            }

            assertThat(seen).as(seen).contains("\"enablePush\":false");
            assertThat(setting(seen, "initialWindowSize")).as(seen).isEqualTo(4 * MIB);
            assertThat(setting(seen, "maxFrameSize")).as(seen).isEqualTo(MIB);
            assertThat(setting(seen, "maxHeaderListSize")).as(seen).isEqualTo(16 * 1024);
            assertThat(number(seen, "connectionWindow")).as(seen).isEqualTo(16 * MIB);
        }
    }

    private static long setting(String json, String name) {
        return number(json, name);
    }

    private static long number(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(\\d+)").matcher(json);
        assertThat(m.find()).as(name + " in " + json).isTrue();
        return Long.parseLong(m.group(1));
    }
}
