package io.ambit.bench.hbone;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A TCP echo server on 127.0.0.1 for the latency and connection-rate clients, one virtual thread per
 * connection: writes back what it reads and closes at the client's FIN. Plain blocking JDK sockets, so the
 * target costs the same behind every proxy compared. Runs in its own process (the harness's CPU time is the
 * proxy's alone) and stops after {@code --max-seconds}.
 *
 * <p>{@code java -cp bench/target/ambit-bench.jar io.ambit.bench.hbone.EchoServer --port 0 [--max-seconds
 * 3600]} prints {@code echo 127.0.0.1:PORT}.
 */
public final class EchoServer implements AutoCloseable {
    private final ServerSocket listener;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    private EchoServer(ServerSocket listener) {
        this.listener = listener;
    }

    /** Listens on 127.0.0.1:{@code port} (0: a free port) and serves until closed. */
    public static EchoServer start(int port) throws IOException {
        ServerSocket listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 4096);
        EchoServer server = new EchoServer(listener);
        Thread.ofPlatform().daemon().name("echo-accept").start(server::acceptLoop);
        return server;
    }

    public int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket socket = listener.accept();
                threads.execute(() -> echo(socket));
            } catch (IOException e) {
                if (!listener.isClosed()) {
                    System.err.println("echo: accept failed: " + e);
                }
            }
        }
    }

    private static void echo(Socket socket) {
        try (socket) {
            socket.setTcpNoDelay(true);
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
            }
        } catch (IOException e) {
            // the client went away (reset): nothing to echo to
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        threads.shutdownNow();
    }

    public static void main(String[] args) throws Exception {
        CliArgs.run("EchoServer --port PORT [--max-seconds S]", () -> {
            CliArgs a = CliArgs.parse(args, Set.of("--port", "--max-seconds"));
            int port = (int) a.number("--port", 0, 0, 65535);
            long seconds = a.number("--max-seconds", 3600, 1, 86_400);
            try (EchoServer server = start(port)) {
                System.out.println("echo 127.0.0.1:" + server.port());
                System.out.flush();
                Thread.sleep(Duration.ofSeconds(seconds)); // until killed, at most this long
            }
        });
    }
}
