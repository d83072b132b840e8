package io.ambit.ztunnel.inbound;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.server.ConnectHandler;
import io.ambit.hbone.server.ConnectRequest;
import io.ambit.hbone.server.ConnectResponse;
import io.ambit.hbone.server.ConnectStatus;
import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.tunnel.TargetDialer;
import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision;
import io.ambit.policy.engine.PeerIdentity;
import io.ambit.policy.engine.Token;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.telemetry.AccessLog;
import io.ambit.ztunnel.telemetry.TrafficMetrics;
import io.ambit.ztunnel.telemetry.WorkloadBaggage;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The inbound HBONE path of one ztunnel (ztunnel-reference.md §1.5, §2.4), in its phases: validate the
 * destination → find the local workload → authorize (L4 policy, §6.2) → connect to the app → tunnel.
 * The mesh state is read once per CONNECT, so a file edit applies to the next one.
 *
 * <p>Answers: {@code 400} when the authority names another address than the one the client dialed and
 * the local workload is not its waypoint nor takes tunnels itself ({@link InboundTarget}); {@code 503}
 * for an unknown workload or service, a self-call to a ztunnel port, or an app that does not accept;
 * {@code 401} when policy denies, logged once with the deciding policy and rule.
 */
public final class InboundHandler implements ConnectHandler {
    /** The inner CONNECT of double HBONE: the network the client is on. */
    static final String FORWARDED_NETWORK = "x-forwarded-network";

    /** ztunnel's switch for PROXY application tunnels to the pod's loopback (default true). */
    static final String LOCALHOST_APP_TUNNEL = "LOCALHOST_APP_TUNNEL";

    private final MeshSource mesh;
    private final TargetDialer dialer;
    private final boolean keepClientIp;
    private final boolean localhostAppTunnel;
    private final AccessLog accessLog;
    private final LiveConnections live;
    private final TrafficMetrics metrics;
    private volatile Peer lastPeer;
    private volatile WorkloadDestination lastDestination;

    /**
     * @param mesh      read once per CONNECT
     * @param transport for the connection to the app (on the stream's event loop)
     * @param accessLog told about every CONNECT once: at refusal, or when the tunnel ends
     * @param live      where open tunnels register, to be decided again on policy updates
     * @param metrics   counts tunnels opened and every CONNECT closed or refused (reporter destination)
     */
    public InboundHandler(
            MeshSource mesh, Transport transport, AccessLog accessLog, LiveConnections live, TrafficMetrics metrics) {
        // Workloads on this host's addresses (ambit run, a shared node proxy): the host's loopback is no
        // pod's, so an application tunnel goes to the workload's own address.
        this(mesh, transport, accessLog, live, metrics, false, false);
    }

    /**
     * The inbound of a ztunnel inside a pod's network namespace: a PROXY application tunnel goes to the
     * pod's loopback unless the environment's {@value #LOCALHOST_APP_TUNNEL} is {@code false}.
     *
     * @param keepClientIp connect to the app from the client's own IP (ztunnel in a pod: the transport's
     *     sockets are IP_TRANSPARENT, and the pod's routing hands the answers back), so the app sees its
     *     real peer
     * @throws IllegalArgumentException when {@value #LOCALHOST_APP_TUNNEL} is neither true nor false
     */
    public InboundHandler(
            MeshSource mesh,
            Transport transport,
            AccessLog accessLog,
            LiveConnections live,
            TrafficMetrics metrics,
            boolean keepClientIp) {
        this(mesh, transport, accessLog, live, metrics, keepClientIp, localhostAppTunnel(System.getenv()));
    }

    /**
     * @param localhostAppTunnel send a PROXY application tunnel to the loopback address (from it) instead of
     *     the workload's address, so the app can bind its tunnel port to localhost (ztunnel's default in a pod)
     */
    public InboundHandler(
            MeshSource mesh,
            Transport transport,
            AccessLog accessLog,
            LiveConnections live,
            TrafficMetrics metrics,
            boolean keepClientIp,
            boolean localhostAppTunnel) {
        this.mesh = mesh;
        this.metrics = metrics;
        this.live = live;
        // Only ever asked after authorization, for an address InboundTarget chose.
        this.dialer = new TargetDialer(transport, a -> false);
        this.keepClientIp = keepClientIp;
        this.localhostAppTunnel = localhostAppTunnel;
        this.accessLog = accessLog;
    }

    /** {@value #LOCALHOST_APP_TUNNEL} from {@code env}: true unless set to false. */
    static boolean localhostAppTunnel(Map<String, String> env) {
        String v = env.get(LOCALHOST_APP_TUNNEL);
        if (v == null || v.isBlank() || v.strip().equalsIgnoreCase("true")) {
            return true;
        }
        if (v.strip().equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException(LOCALHOST_APP_TUNNEL + "=" + v + " (expected true or false; default true)");
    }

    @Override
    public CompletionStage<ConnectResponse> onConnect(ConnectRequest request) {
        long start = System.nanoTime();
        Peer peer = peer(request.peer().identity());
        var conn = new Conn(request, peer == null ? null : peer.text(), start);

        // 1. The local workload: the one whose listener the client dialed.
        IpAddress localIp = IpAddress.of(request.localAddress().getAddress()).unmap();
        var state = mesh.current();
        var found = state.workloadOnAnyNetwork(localIp);
        if (found.isEmpty()) {
            return conn.reject(ConnectStatus.SERVICE_UNAVAILABLE, "unknown workload " + localIp);
        }
        Workload workload = found.get();
        conn.workload = workload;
        IpAddress srcIp = IpAddress.of(request.remoteAddress().getAddress()).unmap();
        // Through a network gateway (double HBONE's inner CONNECT names the client's network): the address is
        // the gateway's, not the client's, so no workload is looked up by it (ztunnel-reference.md §2.3).
        CharSequence network = request.headers().get(FORWARDED_NETWORK);
        boolean viaGateway = network != null && !network.toString().equalsIgnoreCase(workload.network());
        conn.source = viaGateway
                ? null
                : state.workload(new NetworkAddress(workload.network(), srcIp)).orElse(null);

        // 2. Validate the destination and find the next hop.
        var resolved = InboundTarget.resolve(state, workload, localIp, request.authority(), localhostAppTunnel);
        if (resolved instanceof InboundTarget.Refused r) {
            if (r.status() == ConnectStatus.SERVICE_UNAVAILABLE) {
                conn.service = InboundTarget.serviceOf(
                        state, workload, request.authority().port());
            }
            return conn.reject(r.status(), r.reason());
        }
        var next = (InboundTarget.Next) resolved;
        conn.service = next.service();

        // 3. Authorize, on the port the tunnel reaches (ztunnel decides on the upstream address). The request
        // lives as long as the tunnel (for re-checks): its peer and destination parts are shared between
        // tunnels, not parsed and copied for each (a few hundred bytes per tunnel).
        var access = new AccessRequest(
                peer == null ? null : peer.parsed(),
                sameAs(conn.source, srcIp),
                null,
                destinationOf(workload),
                sameAs(workload, localIp),
                next.policyPort(),
                null,
                null,
                null,
                Map.of(),
                Token.NONE,
                null,
                null,
                null);
        Decision decision = state.policies().decideL4(access);
        conn.decision = decision;
        metrics.decided("destination", decision.policy(), decision.allowed());
        if (!decision.allowed()) {
            conn.flags = "DENY";
            return conn.reject(ConnectStatus.UNAUTHORIZED, "denied by policy");
        }

        // 4. Connect to the app, then tunnel; registered until it ends, so policy updates re-decide it.
        conn.access = access;
        InetSocketAddress bind = next.bindLoopback()
                ? new InetSocketAddress(next.app().getAddress(), 0)
                : keepClientIp ? new InetSocketAddress(request.remoteAddress().getAddress(), 0) : null;
        return dialer.dial(request, next.app(), bind).thenApply(answer -> switch (answer) {
            case ConnectResponse.Tunnel t -> {
                conn.upstream = t.upstream();
                if (next.proxy() != null) {
                    // first on the app connection: the relay writes on this event loop only after this returns
                    ProxyProtocolHeader.write(
                            t.upstream(),
                            request.remoteAddress(),
                            next.proxy().tunnelTarget(),
                            conn.srcIdentity,
                            next.proxy().serviceHostname());
                }
                t.upstream().closeFuture().addListener(f -> live.deregister(conn));
                metrics.opened(conn.labels());
                live.register(conn, state);
                // ztunnel answers 200 with the destination's baggage (ENABLE_RESPONSE_BAGGAGE, on by default)
                yield ConnectResponse.tunnel(t.upstream(), Map.of("baggage", WorkloadBaggage.of(workload)), r -> {
                    Decision revokedBy = conn.revokedBy;
                    if (revokedBy != null) {
                        conn.decision = revokedBy;
                        conn.log(r.aToB(), r.bToA(), "closed: policy update now denies it: " + revokedBy.explanation());
                    } else {
                        conn.log(r.aToB(), r.bToA(), r.cause() == null ? null : "relay: " + r.outcome());
                    }
                });
            }
            case ConnectResponse.Reject r -> {
                conn.flags = "CONNECT";
                conn.log(0, 0, "app unreachable: " + r.reason());
                yield r;
            }
            case ConnectResponse.Accept a -> a;
        });
    }

    /**
     * The client's identity as text and as policy sees it, parsed once per identity rather than per tunnel:
     * a one-entry cache, since the tunnels reaching one workload come from few identities at a time (all
     * the streams of one HBONE connection share one). Racing event loops at worst parse twice.
     */
    private Peer peer(SpiffeId id) {
        if (id == null) {
            return null;
        }
        Peer last = lastPeer;
        if (last != null && last.id().equals(id)) {
            return last;
        }
        String text = id.toString();
        Peer p = new Peer(id, text, PeerIdentity.of(text));
        lastPeer = p;
        return p;
    }

    private record Peer(SpiffeId id, String text, PeerIdentity parsed) {}

    /**
     * The policy target for {@code workload}, shared by all the tunnels to it (one entry: a handler serves
     * one workload's listener; a new mesh snapshot with a new workload object replaces it).
     */
    private AccessRequest.Destination destinationOf(Workload workload) {
        WorkloadDestination last = lastDestination;
        if (last != null && last.workload() == workload) {
            return last.destination();
        }
        var d = new AccessRequest.Destination(
                workload.namespace(), workload.labels(), workload.serviceAccount(), null, null);
        lastDestination = new WorkloadDestination(workload, d);
        return d;
    }

    private record WorkloadDestination(Workload workload, AccessRequest.Destination destination) {}

    /** {@code ip} as {@code w} (when not null) holds it: the snapshot's object rather than one per tunnel. */
    private static IpAddress sameAs(Workload w, IpAddress ip) {
        if (w != null) {
            for (var a : w.ips()) {
                if (a.ip().equals(ip)) {
                    return a.ip();
                }
            }
        }
        return ip;
    }

    /** What one CONNECT has learned so far, for its access-log line and for re-checks. */
    private final class Conn implements LiveConnections.Live {
        // Not the ConnectRequest: it holds the request's headers and parsed baggage for as long as the tunnel
        // lives (a few KB per idle tunnel); the log line needs only these two. The authority as its text: the
        // parsed one also holds an InetAddress (with its host-name strings) per tunnel.
        final InetSocketAddress remote;
        final String authority;
        final String srcIdentity;
        final long start;
        Workload workload;
        Workload source;
        Service service;
        Decision decision;
        String flags = "-";
        AccessRequest access;
        io.netty.channel.Channel upstream;
        /** Set (once, before closing the upstream) when a policy update denies the open tunnel. */
        volatile Decision revokedBy;

        Conn(ConnectRequest request, String srcIdentity, long start) {
            this.remote = request.remoteAddress();
            this.authority = request.authority().toString();
            this.srcIdentity = srcIdentity;
            this.start = start;
        }

        @Override
        public AccessRequest access() {
            return access;
        }

        @Override
        public void revoke(Decision now) {
            flags = "DENY";
            revokedBy = now;
            upstream.close(); // the relay resets the stream and reports, logging one line with revokedBy
        }

        CompletionStage<ConnectResponse> reject(ConnectStatus status, String reason) {
            log(0, 0, status.code() + " " + reason);
            return CompletableFuture.completedFuture(ConnectResponse.reject(status, reason));
        }

        TrafficMetrics.Labels labels() {
            return new TrafficMetrics.Labels(
                    "destination",
                    source,
                    srcIdentity,
                    service,
                    workload,
                    workload == null ? null : workload.identity().toString(),
                    flags,
                    true);
        }

        /** The one report of this CONNECT: its access-log line and its metrics. */
        void log(long sent, long received, String error) {
            metrics.closed(labels(), sent, received);
            var remote = this.remote;
            accessLog.log(new AccessLog.Entry(
                    "inbound",
                    Authority.of(remote).toString(), // [v6]:port, as ztunnel
                    source == null ? null : source.name(),
                    srcIdentity,
                    authority,
                    null,
                    service == null ? null : service.hostname(),
                    workload == null ? null : workload.name(),
                    workload == null ? null : workload.identity().toString(),
                    decision == null ? null : decision.policy(),
                    decision == null ? null : decision.rule(),
                    decision == null ? null : decision.explanation(),
                    error,
                    sent,
                    received,
                    (System.nanoTime() - start) / 1_000_000,
                    source == null ? null : source.namespace(),
                    workload == null ? null : workload.namespace(),
                    flags));
        }
    }
}
