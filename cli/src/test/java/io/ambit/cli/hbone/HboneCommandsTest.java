package io.ambit.cli.hbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.cli.Main;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Two Ambit HBONE endpoints started from the command line tunnel a TCP stream to an echo server. */
class HboneCommandsTest {
    private static final String SERVER_ID = "spiffe://cluster.local/ns/backend/sa/echo";
    private static final String CLIENT_ID = "spiffe://cluster.local/ns/frontend/sa/client";

    @TempDir
    Path dir;

    private ServerSocket echo;
    private Thread echoThread;

    @BeforeEach
    void setUp() throws IOException {
        int code = Main.run(
                new PrintWriter(new StringWriter()),
                new PrintWriter(new StringWriter()),
                "ca",
                "init",
                dir.resolve("ca").toString());
        assertThat(code).isZero();
        echo = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        echoThread = Thread.ofVirtual().start(() -> {
            while (!echo.isClosed()) {
                try {
                    Socket s = echo.accept();
                    Thread.ofVirtual().start(() -> {
                        try (s) {
                            s.getInputStream().transferTo(s.getOutputStream());
                        } catch (IOException ignored) {
                            // the client went away
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    @AfterEach
    void tearDown() throws Exception {
        echo.close();
        echoThread.join(5_000);
    }

    private HboneServeCommand.Running serve(String... extra) throws Exception {
        var cmd = new HboneServeCommand();
        new CommandLine(cmd)
                .parseArgs(concat(
                        new String[] {
                            "--ca", dir.resolve("ca").toString(), "--identity", SERVER_ID, "--listen", "127.0.0.1:0"
                        },
                        extra));
        return cmd.start();
    }

    private HboneForwardCommand.Running forward(InetSocketAddress server, String serverIdentity) throws Exception {
        var cmd = new HboneForwardCommand();
        new CommandLine(cmd)
                .parseArgs(
                        "--ca",
                        dir.resolve("ca").toString(),
                        "--identity",
                        CLIENT_ID,
                        "--listen",
                        "127.0.0.1:0",
                        "--server",
                        "127.0.0.1:" + server.getPort(),
                        "--server-identity",
                        serverIdentity,
                        "--target",
                        "127.0.0.1:" + echo.getLocalPort());
        return cmd.start();
    }

    @Test
    void aStreamTravelsThroughTwoAmbitEndpointsAndBack() throws Exception {
        try (var server = serve();
                var client = forward(server.server().localAddress(), SERVER_ID);
                var socket = new Socket("127.0.0.1", client.listener().address().getPort())) {
            socket.setSoTimeout(10_000);
            byte[] hello = "hello through hbone\n".getBytes(StandardCharsets.UTF_8);
            socket.getOutputStream().write(hello);
            socket.shutdownOutput(); // half-close travels as END_STREAM, then back as FIN
            assertThat(readAll(socket.getInputStream())).isEqualTo(hello);
            assertThat(client.listener().firstPeer.get()).contains("X25519MLKEM768");
        }
    }

    @Test
    void aServerWithAnotherIdentityIsRefused() throws Exception {
        try (var server = serve();
                var client = forward(server.server().localAddress(), "spiffe://cluster.local/ns/backend/sa/other");
                var socket = new Socket("127.0.0.1", client.listener().address().getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(1);
            assertThat(readAll(socket.getInputStream())).isEmpty();
            assertThat(client.listener().tunnels.sum()).isZero();
        }
    }

    @Test
    void targetsOutsideAllowTargetAreRefused() throws Exception {
        try (var server = serve("--allow-target", "10.0.0.0/8");
                var client = forward(server.server().localAddress(), SERVER_ID);
                var socket = new Socket("127.0.0.1", client.listener().address().getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(1);
            assertThat(readAll(socket.getInputStream())).isEmpty();
            assertThat(client.listener().failures.sum()).isPositive();
        }
    }

    @Test
    void badOptionsNameWhatWasExpected() {
        var cmd = new HboneServeCommand();
        new CommandLine(cmd)
                .parseArgs("--ca", dir.resolve("ca").toString(), "--identity", SERVER_ID, "--listen", "localhost");
        assertThatThrownBy(cmd::start)
                .hasMessageContaining("--listen localhost")
                .hasMessageContaining("expected ip:port");
        var bad = new HboneServeCommand();
        new CommandLine(bad)
                .parseArgs(
                        "--ca",
                        dir.resolve("ca").toString(),
                        "--identity",
                        "spiffe://td/ns/a",
                        "--listen",
                        "127.0.0.1:0");
        assertThatThrownBy(bad::start).hasMessageContaining("not a workload SPIFFE id");
    }

    private static byte[] readAll(InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            return new byte[0]; // a reset: the tunnel was refused
        }
    }

    private static String[] concat(String[] a, String[] b) {
        var out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
