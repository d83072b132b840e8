package io.ambit.bench.ztunnel;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

/**
 * A plain TCP port that relays each accepted connection to one target, directly or through a SOCKS5 proxy:
 * how tools that cannot speak SOCKS5 (iperf3 without proxychains, fortio) reach a target through ztunnel's
 * SOCKS5 listener. The benchmark puts one in front of the direct path too, so that both paths carry the
 * same extra hop. Half-closes are passed on (FIN after the bytes before it); a failed side closes both.
 * Two virtual threads per connection; the process runs until killed or {@code maxSeconds} pass.
 */
final class Forwarder {
    private static final int TIMEOUT_MILLIS = 10_000;

    private Forwarder() {}

    static void serve(InetSocketAddress listen, InetSocketAddress target, InetSocketAddress socks, long maxSeconds)
            throws Exception {
        var server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(listen, 1024);
        Thread.ofVirtual().start(() -> {
            while (true) {
                Socket client;
                try {
                    client = server.accept();
                } catch (IOException e) {
                    System.err.println("accept on " + listen + ": " + e);
                    return;
                }
                Thread.ofVirtual().start(() -> relay(client, target, socks));
            }
        });
        System.out.println("ready forward=" + listen.getAddress().getHostAddress() + ":" + listen.getPort() + " target="
                + target + (socks == null ? "" : " socks=" + socks));
        System.out.flush();
        Thread.sleep(TimeUnit.SECONDS.toMillis(maxSeconds));
        System.out.println("max-seconds reached, exiting");
        System.exit(0);
    }

    private static void relay(Socket client, InetSocketAddress target, InetSocketAddress socks) {
        Socket upstream;
        try {
            client.setTcpNoDelay(true);
            upstream = Socks5.connect(socks, target, TIMEOUT_MILLIS);
        } catch (IOException e) {
            System.err.println("forward to " + target + ": " + e);
            close(client);
            return;
        }
        Thread back = Thread.ofVirtual().start(() -> copy(upstream, client));
        copy(client, upstream);
        try {
            back.join(TimeUnit.HOURS.toMillis(24));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close(client);
        close(upstream);
    }

    /** Copies until end of stream, then half-closes {@code to}; on an error closes both. */
    private static void copy(Socket from, Socket to) {
        byte[] buffer = new byte[64 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            close(from);
            close(to);
        }
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing: nothing to do
        }
    }
}
