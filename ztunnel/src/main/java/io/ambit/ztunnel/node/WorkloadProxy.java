package io.ambit.ztunnel.node;

import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.server.HboneServer;
import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.tls.ServerTls;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.hbone.transport.Transport;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.dns.DnsProxy;
import io.ambit.ztunnel.inbound.InboundHandler;
import io.ambit.ztunnel.inbound.LiveConnections;
import io.ambit.ztunnel.inbound.PlaintextListener;
import io.ambit.ztunnel.outbound.OriginalDstListener;
import io.ambit.ztunnel.outbound.OutboundFlow;
import io.ambit.ztunnel.outbound.Socks5Listener;
import io.ambit.ztunnel.telemetry.AccessLog;
import io.ambit.ztunnel.telemetry.TrafficMetrics;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The listeners of one proxied workload, as ztunnel's per-pod proxy (ztunnel-reference.md §1.2–§1.3):
 * inbound HBONE presenting the workload's certificate (15008), inbound plaintext (15006), and outbound
 * through the original destination (15001, captured pods) and/or SOCKS5 (15080, local mode), and the DNS
 * proxy (15053, UDP and TCP) when the context has one. A node on
 * a laptop opens one per workload IP; in a cluster, {@code InPodProxies} opens one per pod inside its
 * network namespace. Which transport creates the sockets (host or pod namespace), which pool carries the
 * outbound tunnels and which handler decides inbound tunnels come with the {@link Context}.
 */
public final class WorkloadProxy implements AutoCloseable {
    /**
     * What a workload's listeners share with others of the same node or pod. Made with {@link #builder}:
     * thirteen arguments in a row are easy to misplace, and a new one is one more setter, not one more
     * constructor.
     *
     * @param transport creates the listeners' sockets (and, through the pool and handler, theirs)
     * @param pool      carries outbound tunnels
     * @param inbound   decides inbound HBONE tunnels
     * @param hbonePort the port every node's inbound HBONE listens on (15008), for outbound routes
     * @param keepClientIp whether connections to the app bind the client's IP (transparent sockets)
     * @param dns       what DNS proxies share (forwarder, cache, metrics); null: no DNS listener
     */
    public record Context(
            MeshSource mesh,
            CertificateManager certificates,
            TlsSettings tls,
            Transport transport,
            EventLoopGroup group,
            AccessLog accessLog,
            LiveConnections live,
            TrafficMetrics metrics,
            HbonePool pool,
            InboundHandler inbound,
            int hbonePort,
            boolean keepClientIp,
            DnsProxy.Shared dns) {
        public Context {
            // a builder that was not told one of these fails here, naming it, not at the first connection
            Objects.requireNonNull(mesh, "workload proxy context: mesh");
            Objects.requireNonNull(certificates, "workload proxy context: certificates");
            Objects.requireNonNull(tls, "workload proxy context: tls");
            Objects.requireNonNull(transport, "workload proxy context: transport");
            Objects.requireNonNull(group, "workload proxy context: group");
            Objects.requireNonNull(accessLog, "workload proxy context: accessLog");
            Objects.requireNonNull(live, "workload proxy context: live");
            Objects.requireNonNull(metrics, "workload proxy context: metrics");
            Objects.requireNonNull(pool, "workload proxy context: pool");
            Objects.requireNonNull(inbound, "workload proxy context: inbound");
        }

        /**
         * A builder: {@code mesh} to {@code inbound} must be set; {@code hbonePort} is 15008,
         * {@code keepClientIp} false and {@code dns} none unless set.
         */
        public static Builder builder() {
            return new Builder();
        }

        /** Names the fields one by one; {@link #build} checks that none is missing. */
        public static final class Builder {
            private MeshSource mesh;
            private CertificateManager certificates;
            private TlsSettings tls;
            private Transport transport;
            private EventLoopGroup group;
            private AccessLog accessLog;
            private LiveConnections live;
            private TrafficMetrics metrics;
            private HbonePool pool;
            private InboundHandler inbound;
            private int hbonePort = 15008;
            private boolean keepClientIp;
            private DnsProxy.Shared dns;

            private Builder() {}

            public Builder mesh(MeshSource v) {
                mesh = v;
                return this;
            }

            public Builder certificates(CertificateManager v) {
                certificates = v;
                return this;
            }

            public Builder tls(TlsSettings v) {
                tls = v;
                return this;
            }

            public Builder transport(Transport v) {
                transport = v;
                return this;
            }

            public Builder group(EventLoopGroup v) {
                group = v;
                return this;
            }

            public Builder accessLog(AccessLog v) {
                accessLog = v;
                return this;
            }

            public Builder live(LiveConnections v) {
                live = v;
                return this;
            }

            public Builder metrics(TrafficMetrics v) {
                metrics = v;
                return this;
            }

            public Builder pool(HbonePool v) {
                pool = v;
                return this;
            }

            public Builder inbound(InboundHandler v) {
                inbound = v;
                return this;
            }

            /** The inbound HBONE port of every node, for outbound routes (15008 unless set). */
            public Builder hbonePort(int v) {
                hbonePort = v;
                return this;
            }

            public Builder keepClientIp(boolean v) {
                keepClientIp = v;
                return this;
            }

            /** What DNS proxies share; null (the default): no DNS listener. */
            public Builder dns(DnsProxy.Shared v) {
                dns = v;
                return this;
            }

            public Context build() {
                return new Context(
                        mesh,
                        certificates,
                        tls,
                        transport,
                        group,
                        accessLog,
                        live,
                        metrics,
                        pool,
                        inbound,
                        hbonePort,
                        keepClientIp,
                        dns);
            }
        }
    }

    /**
     * Where each listener binds; null leaves it out. Made with {@link #builder}, which names each listener
     * it opens.
     *
     * @param capture whether connections arrive captured by the pod's iptables (TPROXY inbound, REDIRECT
     *                outbound): plaintext then forwards to the port the client dialed
     * @param dns     the DNS proxy's UDP and TCP address (15053); opened only when the context has DNS
     */
    public record Binds(
            InetSocketAddress hbone,
            InetSocketAddress plaintext,
            InetSocketAddress socks,
            InetSocketAddress outbound,
            boolean capture,
            InetSocketAddress dns) {
        /** A builder with no listener and no capture. */
        public static Builder builder() {
            return new Builder();
        }

        /** ztunnel's own ports here (and its defaults): a connection to one of them is a self-call. */
        Set<Integer> ownPorts() {
            var ports = new HashSet<>(Set.of(15001, 15006, 15008, 15080));
            for (var a : new InetSocketAddress[] {hbone, plaintext, socks, outbound}) {
                if (a != null) {
                    ports.add(a.getPort());
                }
            }
            return ports;
        }

        /** Names the listeners one by one; one left unset (null) is not opened. */
        public static final class Builder {
            private InetSocketAddress hbone;
            private InetSocketAddress plaintext;
            private InetSocketAddress socks;
            private InetSocketAddress outbound;
            private boolean capture;
            private InetSocketAddress dns;

            private Builder() {}

            public Builder hbone(InetSocketAddress v) {
                hbone = v;
                return this;
            }

            public Builder plaintext(InetSocketAddress v) {
                plaintext = v;
                return this;
            }

            public Builder socks(InetSocketAddress v) {
                socks = v;
                return this;
            }

            public Builder outbound(InetSocketAddress v) {
                outbound = v;
                return this;
            }

            public Builder capture(boolean v) {
                capture = v;
                return this;
            }

            public Builder dns(InetSocketAddress v) {
                dns = v;
                return this;
            }

            public Binds build() {
                return new Binds(hbone, plaintext, socks, outbound, capture, dns);
            }
        }
    }

    private final Workload workload;
    private final ServerTls serverTls;
    private HboneServer hbone;
    private PlaintextListener plaintext;
    private Socks5Listener socks;
    private OriginalDstListener outbound;
    private DnsProxy dns;

    private WorkloadProxy(Workload workload, ServerTls serverTls) {
        this.workload = workload;
        this.serverTls = serverTls;
    }

    /**
     * Waits for the workload's certificate (up to 30 s), then opens the listeners {@code binds} names.
     *
     * @param source who outbound connections speak as
     * @throws Exception when the certificate cannot be had or a listener cannot bind; nothing stays open
     */
    public static WorkloadProxy open(Context ctx, Workload workload, Binds binds, OutboundFlow.Source source)
            throws Exception {
        ctx.certificates().certificate(workload.identity()).get(30, TimeUnit.SECONDS);
        var serverTls = ServerTls.forIdentity(ctx.certificates(), workload.identity(), ctx.tls(), null);
        var proxy = new WorkloadProxy(workload, serverTls);
        try {
            if (binds.hbone() != null) {
                proxy.hbone = HboneServer.start(
                                // every stream goes to an app socket: no child channel per stream (hbone DirectStreams)
                                HboneServerConfig.defaults(binds.hbone()).withDirectStreams(true),
                                serverTls,
                                ctx.inbound(),
                                ctx.transport(),
                                ctx.group())
                        .get(30, TimeUnit.SECONDS);
            }
            if (binds.plaintext() != null) {
                proxy.plaintext = PlaintextListener.start(
                        binds.plaintext(),
                        ctx.mesh(),
                        ctx.transport(),
                        ctx.group(),
                        ctx.accessLog(),
                        ctx.live(),
                        ctx.metrics(),
                        binds.capture(),
                        ctx.keepClientIp());
            }
            if (binds.socks() != null || binds.outbound() != null) {
                var flow = new OutboundFlow(
                        source,
                        ctx.hbonePort(),
                        ctx.mesh(),
                        ctx.pool(),
                        ctx.transport(),
                        ctx.accessLog(),
                        ctx.metrics());
                if (binds.socks() != null) {
                    proxy.socks = Socks5Listener.start(binds.socks(), flow, ctx.transport(), ctx.group());
                }
                if (binds.outbound() != null) {
                    proxy.outbound = OriginalDstListener.start(
                            binds.outbound(), flow, binds.ownPorts(), ctx.transport(), ctx.group());
                }
            }
            if (binds.dns() != null && ctx.dns() != null) {
                proxy.dns = DnsProxy.open(binds.dns(), ctx.mesh(), workload, ctx.dns(), ctx.transport(), ctx.group());
            }
        } catch (Exception e) {
            proxy.close(Duration.ZERO);
            throw e;
        }
        return proxy;
    }

    public Workload workload() {
        return workload;
    }

    /** The inbound HBONE listener's address, or null. */
    public InetSocketAddress hboneAddress() {
        return hbone == null ? null : hbone.localAddress();
    }

    public InetSocketAddress plaintextAddress() {
        return plaintext == null ? null : plaintext.address();
    }

    public InetSocketAddress socksAddress() {
        return socks == null ? null : socks.address();
    }

    public InetSocketAddress outboundAddress() {
        return outbound == null ? null : outbound.address();
    }

    /** The DNS proxy's address (UDP and TCP), or null. */
    public InetSocketAddress dnsAddress() {
        return dns == null ? null : dns.address();
    }

    /**
     * Stops accepting on every listener, drains the inbound tunnels (GOAWAY, up to {@code deadline}), then
     * closes them. Blocks: not for an event loop.
     */
    public void close(Duration deadline) {
        List<AutoCloseable> listeners = new ArrayList<>();
        if (socks != null) {
            listeners.add(socks);
        }
        if (outbound != null) {
            listeners.add(outbound);
        }
        if (plaintext != null) {
            listeners.add(plaintext);
        }
        if (dns != null) {
            listeners.add(dns);
        }
        for (var l : listeners) {
            try {
                l.close();
            } catch (Exception e) {
                // closing a listener channel does not fail in a way worth more than going on
            }
        }
        if (hbone != null) {
            hbone.drain(deadline)
                    .orTimeout(deadline.toMillis() + 1000, TimeUnit.MILLISECONDS)
                    .exceptionally(e -> null)
                    .join();
            hbone.close();
        }
        serverTls.close();
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(1));
    }
}
