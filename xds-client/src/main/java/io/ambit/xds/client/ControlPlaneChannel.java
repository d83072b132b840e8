package io.ambit.xds.client;

import io.grpc.ManagedChannel;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.ChannelOption;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * A TLS gRPC channel to istiod (xDS or CA, port 15012), trusting the roots in a file (istiod's
 * {@code root-cert.pem}) or the JDK's when none is given, verifying the server name (the URL host, or an
 * override such as {@code ALT_XDS_HOSTNAME}). ztunnel's settings: connect timeout 5 s, HTTP/2 keepalive
 * every 30 s with a 10 s timeout. {@link #current()} rebuilds the channel when the root file changed, so a
 * root rotation needs no restart; callers ask for it once per stream or call.
 */
public final class ControlPlaneChannel implements AutoCloseable {
    private final URI address;
    private final Path rootCert;
    private final String serverName;
    private final int maxInboundBytes;
    private final Executor executor;

    // guarded by this
    private ManagedChannel channel;
    private Object rootStamp;
    private boolean closed;

    /**
     * @param address         {@code https://host:port}
     * @param rootCert        PEM roots to trust, or null for the JDK's default trust store
     * @param serverName      the name to verify in the server's certificate, or null for the URL host
     * @param maxInboundBytes largest message accepted (ztunnel: 200 MiB)
     * @param executor        where gRPC runs callbacks (the caller's control thread), or null for gRPC's own
     */
    public ControlPlaneChannel(URI address, Path rootCert, String serverName, int maxInboundBytes, Executor executor) {
        this.address = parse(address);
        this.rootCert = rootCert;
        this.serverName = serverName;
        this.maxInboundBytes = maxInboundBytes;
        this.executor = executor;
    }

    /** Checks an address the way ztunnel's config does: https, a host, a port. */
    static URI parse(URI address) {
        Objects.requireNonNull(address, "address");
        if (!"https".equals(address.getScheme()) || address.getHost() == null) {
            throw new IllegalArgumentException("control plane address \"" + address
                    + "\" (expected: https://host:port such as https://istiod.istio-system.svc:15012)");
        }
        return address;
    }

    /**
     * The channel to use now: the same one until the root file changes, then a new one (the old one is
     * shut down gracefully: its streams finish).
     *
     * @throws IOException when the root file cannot be read or holds no certificate
     */
    public synchronized ManagedChannel current() throws IOException {
        if (closed) {
            throw new IOException("the channel to " + address + " is closed");
        }
        Object stamp = stamp();
        if (channel == null || !Objects.equals(stamp, rootStamp)) {
            var old = channel;
            channel = build();
            rootStamp = stamp;
            if (old != null) {
                old.shutdown();
            }
        }
        return channel;
    }

    public URI address() {
        return address;
    }

    private Object stamp() throws IOException {
        if (rootCert == null) {
            return "jdk";
        }
        var a = Files.readAttributes(rootCert, BasicFileAttributes.class);
        return List.of(a.lastModifiedTime(), a.size(), String.valueOf(a.fileKey()));
    }

    private ManagedChannel build() throws IOException {
        SslContext ssl;
        try {
            var b = GrpcSslContexts.forClient();
            if (rootCert != null) {
                b.trustManager(rootCert.toFile());
            }
            ssl = b.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IOException(
                    "cannot use " + rootCert + " as the control plane's root certificates: " + e.getMessage()
                            + " (expected: PEM certificates, istiod's root-cert.pem)",
                    e);
        }
        int port = address.getPort() > 0 ? address.getPort() : 443;
        var b = NettyChannelBuilder.forAddress(address.getHost(), port)
                .sslContext(ssl)
                .maxInboundMessageSize(maxInboundBytes)
                .keepAliveTime(30, TimeUnit.SECONDS)
                .keepAliveTimeout(10, TimeUnit.SECONDS)
                .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                .userAgent("ambit");
        if (serverName != null && !serverName.isEmpty()) {
            b.overrideAuthority(serverName + ":" + port);
        }
        if (executor != null) {
            b.executor(executor);
        }
        return b.build();
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (channel != null) {
            channel.shutdownNow();
            try {
                channel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            channel = null;
        }
    }
}
