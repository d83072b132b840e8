package io.ambit.waypoint.ingress;

import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.server.ConnectHandler;
import io.ambit.hbone.server.ConnectRequest;
import io.ambit.hbone.server.ConnectResponse;
import io.ambit.hbone.server.ConnectStatus;
import io.ambit.hbone.server.Forwarded;
import io.ambit.policy.engine.PeerIdentity;
import io.ambit.policy.match.IpAddress;
import io.ambit.waypoint.http1.Http1Limits;
import io.ambit.waypoint.route.BatchedFlushes;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Workload;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts HBONE tunnels into the waypoint, read top to bottom: the authority must be {@code VIP:port} of a
 * service this waypoint serves (else 400, as ztunnel answers a destination it does not serve) → the client
 * is the verified certificate's identity → 200, and the stream is handed to the HTTP server matching the
 * first bytes ({@link ProtocolDetector}). Bytes the client sent before the 200 were held by the HBONE
 * server and reach the HTTP parser only now (CVE-2025-64763).
 */
public final class IngressHandler implements ConnectHandler {
    private static final Logger log = LoggerFactory.getLogger(IngressHandler.class);

    private final Supplier<MeshState> mesh;
    private final WaypointIdentity self;
    private final BiConsumer<ChannelPipeline, Tunnel> http1;
    private final BiConsumer<ChannelPipeline, Tunnel> http2;
    private final Duration silence;

    /**
     * A tunnel that sends nothing is closed after the default HTTP/1.1 head timeout.
     *
     * @param http1 adds the HTTP/1.1 server for a tunnel
     * @param http2 adds the HTTP/2 server for a tunnel
     */
    public IngressHandler(
            Supplier<MeshState> mesh,
            WaypointIdentity self,
            BiConsumer<ChannelPipeline, Tunnel> http1,
            BiConsumer<ChannelPipeline, Tunnel> http2) {
        this(mesh, self, http1, http2, Http1Limits.defaults().headersTimeout());
    }

    /**
     * @param http1 adds the HTTP/1.1 server for a tunnel
     * @param http2 adds the HTTP/2 server for a tunnel
     * @param silence a tunnel that has sent no byte this long after it opened is closed (the head timeout)
     */
    public IngressHandler(
            Supplier<MeshState> mesh,
            WaypointIdentity self,
            BiConsumer<ChannelPipeline, Tunnel> http1,
            BiConsumer<ChannelPipeline, Tunnel> http2,
            Duration silence) {
        this.mesh = mesh;
        this.self = self;
        this.http1 = http1;
        this.http2 = http2;
        this.silence = silence;
    }

    @Override
    public CompletionStage<ConnectResponse> onConnect(ConnectRequest request) {
        MeshState state = mesh.get();
        var authority = request.authority();
        if (!authority.isIp()) {
            return reject(ConnectStatus.BAD_REQUEST, "authority " + authority + " is not VIP:port");
        }
        var resolved = Destinations.resolve(state, self, IpAddress.of(authority.address()), authority.port());
        if (resolved.target() == null) {
            return reject(ConnectStatus.BAD_REQUEST, resolved.refusal());
        }
        Tunnel tunnel = new Tunnel(
                peer(state, request), resolved.target(), request.traceParent().orElse(null));
        log.debug("tunnel from {} for {}", tunnel.peer().identity(), tunnel.target());
        return CompletableFuture.completedFuture(ConnectResponse.accept(Map.of(), stream -> serve(stream, tunnel)));
    }

    private void serve(Http2StreamChannel stream, Tunnel tunnel) {
        BatchedFlushes.install(stream.parent()); // responses are written while upstream connections read
        stream.pipeline()
                .addLast("closer", new TunnelCloser())
                .addLast(
                        "detect",
                        new ProtocolDetector(p -> http1.accept(p, tunnel), p -> http2.accept(p, tunnel), silence));
        InboundHold.release(stream.pipeline());
        stream.config().setAutoRead(true);
    }

    /**
     * The client: identity from the verified certificate only; address from the CONNECT's
     * {@code forwarded: for=} (written by the client's ztunnel, the HBONE hop's metadata), else the
     * connection's peer address. The workload, for telemetry, is looked up by that address.
     */
    static Peer peer(MeshState state, ConnectRequest request) {
        var identity = request.peer().identity();
        IpAddress source = request.forwarded()
                .flatMap(Forwarded::forAddress)
                .flatMap(IngressHandler::ipOf)
                .orElseGet(() -> IpAddress.of(request.remoteAddress().getAddress()));
        Workload workload = state.workload(NetworkAddress.of(source)).orElse(null);
        return new Peer(identity, PeerIdentity.of(identity.principal()), source, workload);
    }

    /** The IP of a {@code for=} value: {@code ip}, {@code ip:port}, {@code [v6]} or {@code [v6]:port}. */
    static java.util.Optional<IpAddress> ipOf(String value) {
        String v = value;
        if (v.startsWith("[")) {
            int close = v.indexOf(']');
            if (close < 0) {
                return java.util.Optional.empty();
            }
            v = v.substring(1, close);
        } else if (v.indexOf(':') == v.lastIndexOf(':') && v.indexOf(':') > 0) {
            v = v.substring(0, v.indexOf(':'));
        }
        return IpAddress.tryParse(v);
    }

    private static CompletionStage<ConnectResponse> reject(ConnectStatus status, String reason) {
        log.debug("tunnel refused {}: {}", status.code(), reason);
        return CompletableFuture.completedFuture(ConnectResponse.reject(status, reason));
    }
}
