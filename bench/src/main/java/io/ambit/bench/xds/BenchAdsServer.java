package io.ambit.bench.xds;

import io.ambit.xds.proto.discovery.AggregatedDiscoveryServiceGrpc;
import io.ambit.xds.proto.discovery.DeltaDiscoveryRequest;
import io.ambit.xds.proto.discovery.DeltaDiscoveryResponse;
import io.ambit.xds.proto.discovery.Resource;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The smallest istiod stand-in the benchmark needs: answers each type's first request with all of its
 * resources and pushes single-resource deltas on demand, so what is timed is the client (transport,
 * decoding, conversion, the new state), not a server computing differences.
 */
final class BenchAdsServer implements AutoCloseable {
    private final Server server;
    private final List<StreamObserver<DeltaDiscoveryResponse>> streams = new CopyOnWriteArrayList<>();
    private final AtomicLong nonces = new AtomicLong();
    final AtomicLong nacks = new AtomicLong();

    BenchAdsServer(InetSocketAddress bind, SslContext tls, Map<String, List<Resource>> initial) throws Exception {
        var service = new AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase() {
            @Override
            public StreamObserver<DeltaDiscoveryRequest> deltaAggregatedResources(
                    StreamObserver<DeltaDiscoveryResponse> out) {
                streams.add(out);
                return new StreamObserver<>() {
                    @Override
                    public void onNext(DeltaDiscoveryRequest r) {
                        if (r.hasErrorDetail()) {
                            nacks.incrementAndGet();
                        }
                        if (r.getResponseNonce().isEmpty()) { // the first request of a type
                            send(out, r.getTypeUrl(), initial.getOrDefault(r.getTypeUrl(), List.of()));
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        streams.remove(out);
                    }

                    @Override
                    public void onCompleted() {
                        streams.remove(out);
                    }
                };
            }
        };
        this.server = NettyServerBuilder.forAddress(bind)
                .sslContext(tls)
                .maxInboundMessageSize(4 * 1024 * 1024)
                .addService(service)
                .build()
                .start();
    }

    int port() {
        return ((InetSocketAddress) server.getListenSockets().getFirst()).getPort();
    }

    /** Sends one response with these resources to every stream. */
    void push(String typeUrl, List<Resource> resources) {
        for (var s : streams) {
            send(s, typeUrl, resources);
        }
    }

    private void send(StreamObserver<DeltaDiscoveryResponse> out, String typeUrl, List<Resource> resources) {
        synchronized (out) {
            out.onNext(DeltaDiscoveryResponse.newBuilder()
                    .setTypeUrl(typeUrl)
                    .setNonce(Long.toString(nonces.incrementAndGet()))
                    .addAllResources(resources)
                    .build());
        }
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
    }
}
