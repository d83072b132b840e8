package io.ambit.waypoint.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.waypoint.testing.FaultyApp;
import io.ambit.waypoint.testing.Processes;
import io.ambit.waypoint.testing.WaypointFixture;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A response the upstream cuts after it started (the endpoint resets the stream, or the tunnel to it is lost
 * mid-body) must never reach the client as a complete one: an HTTP/2 client sees RST_STREAM with
 * INTERNAL_ERROR (as Envoy sends), never END_STREAM (Node's http2 client: an error, fewer bytes than
 * content-length); an HTTP/1.1 client sees its connection end before content-length (curl exits 18 or 56); a
 * gRPC client sees an error status, not OK. The app is {@code faulty-app.js} (Node) on the {@code greeter}
 * service's port of both endpoints. Addresses: the fixture's subnet 31 (moved to this JVM's block by TestNet).
 */
@ExtendWith(NoLeaks.class)
class TruncatedResponseTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int INTERNAL_ERROR = 0x2;

    private static WaypointFixture mesh;
    private static FaultyApp app;
    private static InetSocketAddress asSleep;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Processes.available("node"), "node is installed");
        mesh = WaypointFixture.start(31, "");
        app = FaultyApp.start(9090, mesh.ip("21"), mesh.ip("22"));
        asSleep = mesh.clientPort(WaypointFixture.SLEEP, new InetSocketAddress(mesh.ip("103"), 9090));
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
        if (mesh != null) {
            mesh.close();
        }
    }

    private static String url(String path) {
        return "http://" + asSleep.getAddress().getHostAddress() + ":" + asSleep.getPort() + path;
    }

    /** One request with Node's http2 client: status, bytes received, error code, RST_STREAM code. */
    private static final String NODE_CLIENT = """
            const http2 = require('http2');
            const [url, path] = process.argv.slice(1);
            const session = http2.connect(url);
            session.on('error', (e) => { console.error('session error ' + e.message); process.exit(2); });
            setTimeout(() => { console.error('timeout'); process.exit(4); }, 20000).unref();
            const req = session.request({ ':path': path });
            const out = { status: 0, length: null, received: 0, ended: false, error: null, rstCode: null };
            req.on('response', (h) => { out.status = h[':status']; out.length = h['content-length'] || null; });
            req.on('data', (d) => { out.received += d.length; });
            req.on('end', () => { out.ended = true; });
            req.on('error', (e) => { out.error = e.code || e.message; });
            req.on('close', () => {
              out.rstCode = req.rstCode;
              console.log(JSON.stringify(out));
              session.close();
            });
            req.end();
            """;

    private static JsonNode nodeGet(String path) throws Exception {
        var r = Processes.run(List.of("node", "-e", NODE_CLIENT, url(""), path), Duration.ofSeconds(30));
        assertThat(r.exit()).as(r.toString()).isZero();
        return JSON.readTree(r.out().strip());
    }

    @Test
    void anHttp2ClientSeesAResetWithInternalErrorWhenTheUpstreamResetsMidBody() throws Exception {
        JsonNode r = nodeGet("/cut");
        assertThat(r.get("status").asInt()).as(r.toString()).isEqualTo(200);
        assertThat(r.get("received").asInt()).as(r.toString()).isLessThan(100_000);
        assertThat(r.get("ended").asBoolean()).as("no END_STREAM: %s", r).isFalse();
        assertThat(r.get("rstCode").asInt()).as(r.toString()).isEqualTo(INTERNAL_ERROR);
        assertThat(r.get("error").asText()).as(r.toString()).isEqualTo("ERR_HTTP2_STREAM_ERROR");
        assertThat(mesh.awaitLog(l -> l.contains("\"path\":\"/cut\"") && l.contains("HTTP/2")))
                .contains("\"response_flags\":\"UC\"");
    }

    @Test
    void anHttp2ClientSeesAResetWithInternalErrorWhenTheTunnelToTheAppIsLostMidBody() throws Exception {
        JsonNode r = nodeGet("/cut-conn");
        assertThat(r.get("status").asInt()).as(r.toString()).isEqualTo(200);
        assertThat(r.get("received").asInt()).as(r.toString()).isLessThan(100_000);
        assertThat(r.get("ended").asBoolean()).as("no END_STREAM: %s", r).isFalse();
        assertThat(r.get("rstCode").asInt()).as(r.toString()).isEqualTo(INTERNAL_ERROR);
        assertThat(mesh.awaitLog(l -> l.contains("\"path\":\"/cut-conn\"") && l.contains("HTTP/2")))
                .contains("\"response_flags\":\"UC\"");
    }

    @Test
    void anHttp1ClientSeesItsConnectionEndBeforeContentLength() throws Exception {
        assumeTrue(Processes.available("curl"), "curl is installed");
        for (String path : List.of("/cut", "/cut-conn", "/cut-chunked")) {
            var r = Processes.run(
                    List.of(
                            "curl",
                            "-sS",
                            "--max-time",
                            "20",
                            "-o",
                            "/dev/null",
                            "-w",
                            "%{http_code} %{size_download}",
                            url(path)),
                    Duration.ofSeconds(30));
            // 18: "transfer closed with outstanding read data remaining" (or without the terminal chunk);
            // 56: "connection reset".
            assertThat(r.exit()).as("%s: %s", path, r).isIn(18, 56);
            assertThat(r.out()).as(r.toString()).startsWith("200 ");
            assertThat(Long.parseLong(r.out().substring(4).strip()))
                    .as(r.toString())
                    .isLessThan(100_000);
        }
    }

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    @Test
    void aGrpcClientSeesAnErrorNotOk() throws Exception {
        var method = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
                .setFullMethodName("cut.Cut/Stream")
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build();
        ManagedChannel channel =
                NettyChannelBuilder.forAddress(asSleep).usePlaintext().build();
        try {
            Iterator<byte[]> replies = ClientCalls.blockingServerStreamingCall(
                    channel, method, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), new byte[] {1});
            List<String> got = new ArrayList<>();
            StatusRuntimeException failure = null;
            try {
                for (int i = 0; i < 10 && replies.hasNext(); i++) {
                    got.add(new String(replies.next(), StandardCharsets.UTF_8));
                }
            } catch (StatusRuntimeException e) {
                failure = e;
            }
            assertThat(got).containsExactly("first");
            assertThat(failure).as("the call failed rather than completing").isNotNull();
            assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        assertThat(mesh.awaitLog(l -> l.contains("\"path\":\"/cut.Cut/Stream\"")))
                .contains("\"response_flags\":\"UC\"");
    }
}
