package io.ambit.controlplane;

import io.ambit.hbone.ca.LocalCa;
import io.ambit.hbone.ca.SigningCa;
import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.xds.file.ChangeTrigger;
import io.ambit.xds.file.InvalidMeshFileException;
import io.ambit.xds.file.LocalFileSource;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import io.grpc.Server;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An istiod for a laptop and for tests: a real gRPC server (TLS, port 15012 by default) that serves a
 * local mesh file — the format {@code ambit run} reads — over Delta ADS as istiod serves ztunnel
 * ({@link AdsService}, {@link XdsSnapshot}), watches the file and pushes what changed, and issues workload
 * certificates over {@code IstioCertificateService} from the embedded CA ({@link LocalCa}).
 *
 * <p>Clients trust {@link #rootCert()} (the CA's {@code root-cert.pem}); the server's certificate carries
 * istiod's names and {@code localhost} and the listen address, so a ztunnel configured for a cluster
 * verifies it unchanged. A file edit that does not load is logged and the last good mesh keeps being
 * served.
 */
public final class LocalControlPlane implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LocalControlPlane.class);

    /**
     * How to start.
     *
     * @param file      the mesh file
     * @param listen    where to listen (127.0.0.1:15012 by default)
     * @param caDir     the embedded CA's state directory (created with a new root when empty)
     * @param maxCertTtl the longest certificate lifetime issued (24 h, istiod's default)
     * @param trigger   when to look at the file again; null: poll every second
     */
    public record Config(Path file, InetSocketAddress listen, Path caDir, Duration maxCertTtl, ChangeTrigger trigger) {
        public static Config of(Path file, InetSocketAddress listen, Path caDir) {
            return new Config(file, listen, caDir, Duration.ofHours(24), null);
        }

        public Config withMaxCertTtl(Duration value) {
            return new Config(file, listen, caDir, value, trigger);
        }

        public Config withTrigger(ChangeTrigger value) {
            return new Config(file, listen, caDir, maxCertTtl, value);
        }
    }

    private final Config config;
    private final ScheduledExecutorService control;
    private final AdsService ads;
    private final CaService ca;
    private final HeaderLog headers;
    private final LocalFileSource source;
    private final Server server;
    private final Path rootCert;
    private final Map<String, Map<String, XdsSnapshot.Entry>> extra = new LinkedHashMap<>();

    private LocalControlPlane(
            Config config,
            ScheduledExecutorService control,
            AdsService ads,
            CaService ca,
            HeaderLog headers,
            LocalFileSource source,
            Server server,
            Path rootCert) {
        this.config = config;
        this.headers = headers;
        this.control = control;
        this.ads = ads;
        this.ca = ca;
        this.source = source;
        this.server = server;
        this.rootCert = rootCert;
    }

    /**
     * Loads the file and the CA, and starts serving.
     *
     * @throws InvalidMeshFileException naming the file's problems
     * @throws CertificateSourceException when the CA directory is unusable
     * @throws IOException when the address cannot be bound
     */
    public static LocalControlPlane start(Config config)
            throws InvalidMeshFileException, CertificateSourceException, IOException {
        var control = Executors.newSingleThreadScheduledExecutor(r -> {
            var t = new Thread(r, "ambit-control-plane");
            t.setDaemon(true);
            return t;
        });
        LocalFileSource source = null;
        try {
            var localCa = LocalCa.open(config.caDir(), Clock.systemUTC());
            SigningCa signing = localCa.signingCa();
            source = LocalFileSource.open(
                    config.file(),
                    config.trigger() != null ? config.trigger() : ChangeTrigger.polling(Duration.ofSeconds(1)));
            var ads = new AdsService(control);
            var headers = new HeaderLog();
            var caService = new CaService(
                    new CaService.Signer(signing, List.of(localCa.root())),
                    source.current().mesh().trustDomain(),
                    config.maxCertTtl(),
                    Clock.systemUTC());
            var serving = ServingCertificate.issue(
                    signing,
                    ServingCertificate.ISTIOD_NAMES,
                    List.of(config.listen().getAddress()),
                    Clock.systemUTC().instant(),
                    Duration.ofDays(365));
            var tls = GrpcSslContexts.configure(SslContextBuilder.forServer(
                            serving.key(), serving.chain().toArray(X509Certificate[]::new)))
                    .build();
            var server = NettyServerBuilder.forAddress(config.listen())
                    .sslContext(tls)
                    .executor(control)
                    .permitKeepAliveTime(10, TimeUnit.SECONDS) // ztunnel pings every 30 s
                    .permitKeepAliveWithoutCalls(true)
                    .maxInboundMessageSize(4 * 1024 * 1024) // requests are small; a CSR is a few hundred bytes
                    .addService(io.grpc.ServerInterceptors.intercept(ads, headers))
                    .addService(io.grpc.ServerInterceptors.intercept(caService, headers))
                    .build()
                    .start();
            var plane = new LocalControlPlane(
                    config,
                    control,
                    ads,
                    caService,
                    headers,
                    source,
                    server,
                    config.caDir().resolve(LocalCa.ROOT_CERT));
            plane.serve(source.current());
            source.addListener(new MeshSource.Listener() {
                @Override
                public void updated(MeshState state) {
                    plane.serve(state);
                }
            });
            log.info(
                    "control plane on {} serving {} ({}); clients trust {}",
                    plane.address(),
                    config.file(),
                    source.current(),
                    plane.rootCert);
            return plane;
        } catch (InvalidMeshFileException | CertificateSourceException | IOException | RuntimeException e) {
            if (source != null) {
                source.close();
            }
            control.shutdownNow();
            throw e;
        }
    }

    private void serve(MeshState state) {
        long start = System.nanoTime();
        var snapshot = XdsSnapshot.of(state);
        synchronized (extra) {
            if (!extra.isEmpty()) {
                var merged = new LinkedHashMap<String, Map<String, XdsSnapshot.Entry>>();
                snapshot.resources().forEach((k, v) -> merged.put(k, new LinkedHashMap<>(v)));
                extra.forEach((type, m) ->
                        merged.computeIfAbsent(type, k -> new LinkedHashMap<>()).putAll(m));
                snapshot = new XdsSnapshot(merged);
            }
        }
        log.debug("snapshot of {} built in {} ms", state, (System.nanoTime() - start) / 1_000_000);
        ads.push(snapshot);
    }

    /**
     * Serves raw resources besides the file's — ones the file cannot express, such as what a newer or a
     * broken istiod would send — in one push: {@code add} are served (replacing extras of the same name),
     * {@code remove} taken away again. For tests.
     */
    public void serveExtra(String typeUrl, List<XdsSnapshot.Entry> add, List<String> remove) {
        synchronized (extra) {
            var m = extra.computeIfAbsent(typeUrl, k -> new LinkedHashMap<>());
            remove.forEach(m::remove);
            add.forEach(e -> m.put(e.name(), e));
        }
        serve(source.current());
    }

    /**
     * Signs from now on with {@code next}, telling clients to trust {@code roots} (for a root rotation:
     * the old and the new root first, then the new one alone).
     */
    public void useCa(SigningCa next, List<X509Certificate> roots) {
        ca.use(new CaService.Signer(next, roots));
    }

    /** Where the server listens (the port is the real one when 0 was asked for). */
    public InetSocketAddress address() {
        var a = (InetSocketAddress) server.getListenSockets().getFirst();
        return new InetSocketAddress(config.listen().getAddress(), a.getPort());
    }

    /** The URL clients use: {@code https://<listen ip>:<port>}. */
    public java.net.URI url() {
        var a = address();
        String host = a.getAddress().getHostAddress();
        if (host.indexOf(':') >= 0) {
            host = "[" + host + "]";
        }
        return java.net.URI.create("https://" + host + ":" + a.getPort());
    }

    /** The root certificates clients trust ({@code XDS_ROOT_CA}, {@code CA_ROOT_CA}). */
    public Path rootCert() {
        return rootCert;
    }

    /** The mesh being served. */
    public MeshState mesh() {
        return source.current();
    }

    /** Counters: streams, ACKs, NACKs (and the last NACK's text), responses, resources sent, open streams. */
    public AdsService.Stats stats() {
        return ads.stats();
    }

    /** The first request of each type on each stream so far, for tests (node, initial versions). */
    public List<io.ambit.xds.proto.discovery.DeltaDiscoveryRequest> firstRequests() {
        var f = new java.util.concurrent.CompletableFuture<List<io.ambit.xds.proto.discovery.DeltaDiscoveryRequest>>();
        control.execute(() -> f.complete(ads.firstRequests()));
        return f.join();
    }

    /**
     * The {@code authorization} and {@code clusterid} headers of the last call of each gRPC method (full
     * method name), as clients sent them.
     */
    public Map<String, Map<String, String>> lastHeaders() {
        return headers.last();
    }

    /** Certificates issued and refused so far. */
    public long certificatesIssued() {
        return ca.issued();
    }

    public long certificatesRefused() {
        return ca.refused();
    }

    /** Ends every stream and stops listening; clients keep their last state and retry. */
    @Override
    public void close() {
        server.shutdown(); // no new streams first, so a client told to go away does not come straight back
        ads.closeAll();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow();
                server.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
        source.close();
        control.shutdownNow();
    }
}
