package io.ambit.controlplane;

import io.ambit.hbone.ca.LocalCa;
import io.ambit.xds.proto.discovery.DeltaDiscoveryRequest;
import io.ambit.xds.proto.discovery.DeltaDiscoveryResponse;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A Delta ADS server driven step by step by a test, speaking raw bytes: it can send anything a broken or
 * hostile istiod could — garbage, truncated messages, wrong type URLs — on the real method path over real
 * TLS, and shows the test every request the client sends.
 */
final class ScriptedAdsServer implements AutoCloseable {
    private static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    };

    private static final MethodDescriptor<byte[], byte[]> METHOD = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
            .setFullMethodName("envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources")
            .setRequestMarshaller(RAW)
            .setResponseMarshaller(RAW)
            .build();

    /** One client stream, as the test sees it. */
    static final class Stream {
        final BlockingQueue<DeltaDiscoveryRequest> requests = new LinkedBlockingQueue<>();
        final StreamObserver<byte[]> out;

        Stream(StreamObserver<byte[]> out) {
            this.out = out;
        }

        /** The next request, or a failure after 20 s. */
        DeltaDiscoveryRequest request() throws InterruptedException {
            var r = requests.poll(20, TimeUnit.SECONDS);
            if (r == null) {
                throw new AssertionError("no request from the client within 20 s");
            }
            return r;
        }

        synchronized void send(DeltaDiscoveryResponse r) {
            out.onNext(r.toByteArray());
        }

        synchronized void sendRaw(byte[] bytes) {
            out.onNext(bytes);
        }

        synchronized void fail(Status status) {
            out.onError(status.asRuntimeException());
        }
    }

    private final BlockingQueue<Stream> streams = new LinkedBlockingQueue<>();
    private final Server server;
    private final Path rootCert;

    ScriptedAdsServer(Path caDir, String ip) throws Exception {
        var ca = LocalCa.open(caDir, Clock.systemUTC());
        this.rootCert = caDir.resolve(LocalCa.ROOT_CERT);
        var serving = ServingCertificate.issue(
                ca.signingCa(),
                List.of("localhost"),
                List.of(InetAddress.getByName(ip)),
                Clock.systemUTC().instant(),
                Duration.ofDays(1));
        var tls = GrpcSslContexts.configure(SslContextBuilder.forServer(
                        serving.key(), serving.chain().toArray(X509Certificate[]::new)))
                .build();
        var service = ServerServiceDefinition.builder("envoy.service.discovery.v3.AggregatedDiscoveryService")
                .addMethod(METHOD, ServerCalls.asyncBidiStreamingCall(out -> {
                    var s = new Stream(out);
                    streams.add(s);
                    return new StreamObserver<byte[]>() {
                        @Override
                        public void onNext(byte[] value) {
                            try {
                                s.requests.add(DeltaDiscoveryRequest.parseFrom(value));
                            } catch (IOException e) {
                                throw new IllegalStateException("the client sent garbage", e);
                            }
                        }

                        @Override
                        public void onError(Throwable t) {}

                        @Override
                        public void onCompleted() {}
                    };
                }))
                .build();
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getByName(ip), 0))
                .sslContext(tls)
                .addService(service)
                .build()
                .start();
    }

    java.net.URI url() {
        var a = (InetSocketAddress) server.getListenSockets().getFirst();
        return java.net.URI.create("https://"
                + ((InetSocketAddress) server.getListenSockets().getFirst())
                        .getAddress()
                        .getHostAddress()
                + ":" + a.getPort());
    }

    Path rootCert() {
        return rootCert;
    }

    /** The next stream a client opens, or a failure after 20 s. */
    Stream stream() throws InterruptedException {
        var s = streams.poll(20, TimeUnit.SECONDS);
        if (s == null) {
            throw new AssertionError("no stream from the client within 20 s");
        }
        return s;
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
