package io.ambit.waypoint.extauthz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.tls.CompliancePolicy;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.waypoint.stages.SecureMesh;
import io.ambit.waypoint.testing.Await;
import io.ambit.waypoint.testing.Processes;
import io.ambit.waypoint.testing.TestNet;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The waypoint's tunnels to ext_authz providers in the mesh use the waypoint's own HBONE TLS settings, not
 * the defaults: a waypoint under {@code compliancePolicy: pqc} offers only X25519MLKEM768 to a provider's
 * node too. The provider "classic" sits behind a node that can only do X25519 (a BoringSSL server holding
 * the provider's certificate, counting the handshakes it completes): the waypoint must never complete one
 * with it, and its checks fail closed. The provider "hybrid" sits behind a real HBONE node and answers.
 * Addresses: 127.98.7.0/24 (logical, see {@link TestNet}).
 */
@ExtendWith(NoLeaks.class)
class ProviderTlsTest {
    static final SpiffeId CLIENT = new SpiffeId("cluster.local", "shop", "client");
    static final SpiffeId APP = new SpiffeId("cluster.local", "shop", "app");
    static final SpiffeId AUTHZ = new SpiffeId("cluster.local", "shop", "ext-authz");

    static final String MESH = """
            mesh:
              rootNamespace: istio-system
              trustDomain: cluster.local
              extensionProviders:
              - name: hybrid
                envoyExtAuthzHttp: {service: hybrid.shop.svc.cluster.local, port: 8000, timeout: 10s}
              - name: classic
                envoyExtAuthzHttp: {service: classic.shop.svc.cluster.local, port: 8000, timeout: 10s}
            workloads:
            - {name: client, namespace: shop, serviceAccount: client, workloadIps: ["NET.10"]}
            - name: shop-waypoint
              namespace: shop
              serviceAccount: shop-waypoint
              workloadIps: ["NET.1"]
              labels: {gateway.networking.k8s.io/gateway-name: shop-waypoint}
            - name: app-1
              namespace: shop
              serviceAccount: app
              workloadIps: ["NET.21"]
              services:
                "shop/orders.shop.svc.cluster.local": {80: 8080}
                "shop/billing.shop.svc.cluster.local": {80: 8080}
            - {name: authz-hybrid, namespace: shop, serviceAccount: ext-authz, workloadIps: ["NET.31"],
               services: {"shop/hybrid.shop.svc.cluster.local": {8000: 9000}}}
            - {name: authz-classic, namespace: shop, serviceAccount: ext-authz, workloadIps: ["NET.35"],
               services: {"shop/classic.shop.svc.cluster.local": {8000: 9000}}}
            services:
            - {name: orders, namespace: shop, hostname: orders.shop.svc.cluster.local, vips: ["/NET.100"],
               ports: {80: 8080}, waypoint: {destination: {address: "/NET.1"}}}
            - {name: billing, namespace: shop, hostname: billing.shop.svc.cluster.local, vips: ["/NET.101"],
               ports: {80: 8080}, waypoint: {destination: {address: "/NET.1"}}}
            - {name: hybrid, namespace: shop, hostname: hybrid.shop.svc.cluster.local, vips: ["/NET.110"],
               ports: {8000: 9000}}
            - {name: classic, namespace: shop, hostname: classic.shop.svc.cluster.local, vips: ["/NET.111"],
               ports: {8000: 9000}}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: orders-ext-authz, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: orders}]
              action: CUSTOM
              provider: {name: hybrid}
              rules:
              - to: [{operation: {methods: ["GET"]}}]
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: billing-ext-authz, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: billing}]
              action: CUSTOM
              provider: {name: classic}
              rules:
              - to: [{operation: {methods: ["GET"]}}]
            """;

    static AuthzHttpServer hybrid;
    static ClassicOnlyNode classic;
    static SecureMesh mesh;
    static InetSocketAddress orders;
    static InetSocketAddress billing;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Processes.available("curl"), "curl is installed");
        hybrid = new AuthzHttpServer(TestNet.ip("127.98.7.31"), 9000);
        hybrid.respond(r -> AuthzHttpServer.Reply.of(200, ""));
        var pqc = TlsSettings.defaults().withCompliancePolicy(CompliancePolicy.PQC);
        mesh = SecureMesh.start(
                7, MESH, Map.of("21", APP), Map.of("31", new SecureMesh.Node(AUTHZ, r -> {})), c -> c.withTls(pqc));
        classic = new ClassicOnlyNode(mesh, new InetSocketAddress(mesh.ip("35"), 15008));
        orders = mesh.clientPort(CLIENT, "10", new InetSocketAddress(mesh.ip("100"), 80));
        billing = mesh.clientPort(CLIENT, "10", new InetSocketAddress(mesh.ip("101"), 80));
    }

    @AfterAll
    static void stop() throws Exception {
        if (classic != null) {
            classic.close();
        }
        if (mesh != null) {
            mesh.close();
        }
        if (hybrid != null) {
            hybrid.close();
        }
    }

    @Test
    void aPqcWaypointChecksWithAProviderWhoseNodeDoesTheHybridGroup() throws Exception {
        var r = SecureMesh.curl(orders, "/checked");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(hybrid.received).hasSize(1);
    }

    @Test
    void aPqcWaypointNeverHandshakesClassicallyWithAProvidersNode() throws Exception {
        var r = SecureMesh.curl(billing, "/checked");
        assertThat(r.status()).as("the check cannot be made: fail closed").isEqualTo(403);
        Await.until(() -> classic.attempts.get() > 0, "the waypoint dialed the provider's node");
        assertThat(classic.completed.get())
                .as("handshakes the X25519-only node completed with the waypoint (groups offered by it: pqc only)")
                .isZero();
    }

    /** A TLS 1.3 server with the provider's certificate that offers X25519 only; counts what it completes. */
    static final class ClassicOnlyNode implements AutoCloseable {
        final AtomicInteger attempts = new AtomicInteger();
        final AtomicInteger completed = new AtomicInteger();
        private final SslContext context;
        private final Channel server;

        ClassicOnlyNode(SecureMesh mesh, InetSocketAddress bind) throws Exception {
            var cert = mesh.pki.certificates.certificate(AUTHZ).get(30, TimeUnit.SECONDS);
            context = SslContextBuilder.forServer(cert.key(), cert.chain().toArray(X509Certificate[]::new))
                    .sslProvider(SslProvider.OPENSSL_REFCNT)
                    .protocols("TLSv1.3")
                    .applicationProtocolConfig(new ApplicationProtocolConfig(
                            ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            "h2"))
                    .option(OpenSslContextOption.GROUPS, new String[] {"X25519"})
                    .build();
            server = new ServerBootstrap()
                    .group(mesh.group)
                    .channel(mesh.transport.serverChannelClass())
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            attempts.incrementAndGet();
                            ch.pipeline().addLast(context.newHandler(ch.alloc()), new ChannelInboundHandlerAdapter() {
                                @Override
                                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                    if (evt instanceof SslHandshakeCompletionEvent done) {
                                        if (done.isSuccess()) {
                                            completed.incrementAndGet();
                                        }
                                        ctx.close(); // not an HBONE node: nothing after the handshake
                                    }
                                }

                                @Override
                                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                    ctx.close();
                                }
                            });
                        }
                    })
                    .bind(bind)
                    .sync()
                    .channel();
        }

        @Override
        public void close() {
            server.close().syncUninterruptibly();
            ReferenceCountUtil.release(context);
        }
    }
}
