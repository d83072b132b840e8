package io.ambit.ztunnel.dns;

import io.netty.channel.AddressedEnvelope;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends the questions the mesh does not answer to the upstream nameservers (resolv.conf's) with Netty's DNS
 * resolver, and passes their answers through: response code and records as they came (NXDOMAIN stays
 * NXDOMAIN). A truncated UDP answer is asked again over TCP by the resolver. An upstream that fails or does
 * not answer within the timeout is followed by the next one (at most {@value #ATTEMPTS} tries); when none
 * answers the client gets SERVFAIL. Answers are cached ({@link AnswerCache}), and at most
 * {@code maxInflight} questions are out at once (more: SERVFAIL at once, nothing queued).
 *
 * <p>Never blocks: every step completes on the resolver's event loop. Who creates the sockets is given
 * ({@code datagrams}, {@code streams}): in a pod, inside its namespace and marked, so the pod's DNS capture
 * does not send them back to this proxy.
 */
public final class UpstreamForwarder implements AutoCloseable {
    static final int ATTEMPTS = 2;

    private final DnsNameResolver resolver;
    private final List<InetSocketAddress> upstreams;
    private final AnswerCache cache;
    private final int maxInflight;
    private final AtomicInteger inflight = new AtomicInteger();
    private final AtomicInteger next = new AtomicInteger();

    public UpstreamForwarder(
            DnsSettings settings,
            EventLoop loop,
            ChannelFactory<? extends DatagramChannel> datagrams,
            ChannelFactory<? extends SocketChannel> streams) {
        this.upstreams = settings.upstreams();
        this.cache = new AnswerCache(settings.cacheSize(), System::nanoTime);
        this.maxInflight = settings.maxInflight();
        var builder = new DnsNameResolverBuilder(loop)
                .datagramChannelFactory(datagrams)
                .queryTimeoutMillis(settings.upstreamTimeout().toMillis())
                .maxQueriesPerResolve(1)
                .recursionDesired(true)
                .resolveCache(NoopDnsCache.INSTANCE)
                .cnameCache(NoopDnsCnameCache.INSTANCE)
                .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE);
        if (streams != null) {
            builder.socketChannelFactory(streams, false);
        }
        if (!upstreams.isEmpty()) {
            builder.nameServerProvider(new SequentialDnsServerAddressStreamProvider(upstreams));
        }
        this.resolver = builder.build();
    }

    /** The upstream's answer to {@code q} (SERVFAIL when none came); never completes exceptionally. */
    CompletableFuture<DnsReply> forward(Question q, DnsMetrics metrics, DnsMetrics.Labels labels) {
        var key = AnswerCache.Key.of(q);
        var cached = cache.get(key);
        if (cached != null) {
            return CompletableFuture.completedFuture(cached);
        }
        metrics.upstreamRequest(labels);
        var result = new CompletableFuture<DnsReply>();
        if (upstreams.isEmpty() || inflight.incrementAndGet() > maxInflight) {
            if (!upstreams.isEmpty()) {
                inflight.decrementAndGet();
            }
            metrics.upstreamFailure(labels);
            result.complete(DnsReply.error(DnsReply.SERVFAIL));
            return result;
        }
        DefaultDnsQuestion question;
        try {
            question = new DefaultDnsQuestion(q.name() + ".", DnsRecordType.valueOf(q.type()), q.dnsClass());
        } catch (IllegalArgumentException e) {
            // a name Netty will not send (not a valid IDN): no upstream can answer it either
            inflight.decrementAndGet();
            metrics.upstreamFailure(labels);
            result.complete(DnsReply.error(DnsReply.SERVFAIL));
            return result;
        }
        long start = System.nanoTime();
        attempt(question, key, 1, start, metrics, labels, result);
        return result;
    }

    private void attempt(
            DefaultDnsQuestion question,
            AnswerCache.Key key,
            int tries,
            long start,
            DnsMetrics metrics,
            DnsMetrics.Labels labels,
            CompletableFuture<DnsReply> result) {
        var server = upstreams.get(Math.floorMod(next.getAndIncrement(), upstreams.size()));
        Future<AddressedEnvelope<DnsResponse, InetSocketAddress>> f;
        try {
            f = resolver.query(server, question);
        } catch (RuntimeException e) {
            finish(null, key, start, metrics, labels, result);
            return;
        }
        f.addListener(done -> {
            if (done.isSuccess()) {
                @SuppressWarnings("unchecked")
                var envelope = (AddressedEnvelope<DnsResponse, InetSocketAddress>) done.getNow();
                DnsReply reply;
                try {
                    reply = UpstreamRecords.of(envelope.content());
                } finally {
                    envelope.release();
                }
                finish(reply, key, start, metrics, labels, result);
            } else if (tries < ATTEMPTS && tries < upstreams.size() * ATTEMPTS) {
                attempt(question, key, tries + 1, start, metrics, labels, result);
            } else {
                finish(null, key, start, metrics, labels, result);
            }
        });
    }

    private void finish(
            DnsReply reply,
            AnswerCache.Key key,
            long start,
            DnsMetrics metrics,
            DnsMetrics.Labels labels,
            CompletableFuture<DnsReply> result) {
        inflight.decrementAndGet();
        metrics.upstreamDuration(labels, System.nanoTime() - start);
        if (reply == null) {
            metrics.upstreamFailure(labels);
            result.complete(DnsReply.error(DnsReply.SERVFAIL));
            return;
        }
        cache.put(key, reply);
        result.complete(reply);
    }

    /** Questions out now (for tests). */
    int inflight() {
        return inflight.get();
    }

    @Override
    public void close() {
        resolver.close();
    }
}
