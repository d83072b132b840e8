package io.ambit.xds.kube;

import io.ambit.hbone.ca.Pem;
import io.ambit.hbone.cert.CertificateSourceException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * How to reach the Kubernetes API server, as every in-cluster client does: {@code
 * https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT}, the server verified against the service
 * account's {@code ca.crt}, and the service account's token as a bearer token, read again for every request
 * because the kubelet rotates the projected token file. Only GETs: the waypoint reads, never writes.
 */
public final class KubeApi implements AutoCloseable {
    /** The service account directory every pod gets. */
    public static final Path SERVICE_ACCOUNT = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");

    /** A token is a JWT of a few KiB; a bigger file is a mistake, not a token. */
    static final int MAX_TOKEN_BYTES = 64 * 1024;

    private final URI base;
    private final Path tokenFile;
    private final HttpClient http;

    private KubeApi(URI base, Path tokenFile, HttpClient http) {
        this.base = base;
        this.tokenFile = tokenFile;
        this.http = http;
    }

    /**
     * The in-cluster API server from the pod's environment and service account files.
     *
     * @param env the process environment ({@code KUBERNETES_SERVICE_HOST}, {@code KUBERNETES_SERVICE_PORT})
     * @param serviceAccount the directory holding {@code token} and {@code ca.crt} ({@link #SERVICE_ACCOUNT})
     * @throws IllegalArgumentException naming the variable or file that is missing and what was expected
     */
    public static KubeApi inCluster(Map<String, String> env, Path serviceAccount) {
        String host = env.getOrDefault("KUBERNETES_SERVICE_HOST", "");
        String port = env.getOrDefault("KUBERNETES_SERVICE_PORT", "443");
        if (host.isBlank()) {
            throw new IllegalArgumentException("KUBERNETES_SERVICE_HOST is not set (expected: the API server's address,"
                    + " which Kubernetes sets in every pod; outside a cluster use a mesh FILE)");
        }
        int p;
        try {
            p = Integer.parseInt(port.trim());
        } catch (NumberFormatException e) {
            p = -1;
        }
        if (p < 1 || p > 65535) {
            throw new IllegalArgumentException("KUBERNETES_SERVICE_PORT \"" + port + "\" (expected: a port 1-65535)");
        }
        // an IPv6 literal needs brackets in a URL
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host.trim() + "]" : host.trim();
        return of(
                URI.create("https://" + h + ":" + p),
                serviceAccount.resolve("ca.crt"),
                serviceAccount.resolve("token"));
    }

    /**
     * An API server at {@code base}.
     *
     * @param caCert PEM certificates to verify the server with
     * @param tokenFile the bearer token file, read for every request; null to send none
     * @throws IllegalArgumentException when the URL is not https or the CA file cannot be read
     */
    public static KubeApi of(URI base, Path caCert, Path tokenFile) {
        if (!"https".equals(base.getScheme()) || base.getHost() == null) {
            throw new IllegalArgumentException(
                    "API server " + base + " (expected: https://host:port, the API server is only spoken to over TLS)");
        }
        SSLContext tls;
        try {
            var certs = Pem.readCertificates(caCert, "the API server's CA (ca.crt)");
            var store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < certs.size(); i++) {
                store.setCertificateEntry("ca-" + i, certs.get(i));
            }
            var tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            tls = SSLContext.getInstance("TLS");
            tls.init(null, tmf.getTrustManagers(), null);
        } catch (CertificateSourceException | GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException(
                    caCert + " cannot be used (expected: the API server's CA certificates in PEM): " + e.getMessage());
        }
        var http = HttpClient.newBuilder()
                .sslContext(tls)
                .version(HttpClient.Version.HTTP_1_1) // one watch per connection: no stream limits to meet
                .connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        String s = base.toString();
        return new KubeApi(URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s), tokenFile, http);
    }

    /** Where the API server is. */
    public URI base() {
        return base;
    }

    /**
     * A GET whose body the caller reads (and closes) as a stream: a list page or a watch.
     *
     * @param pathAndQuery e.g. {@code /apis/security.istio.io/v1/authorizationpolicies?limit=500}
     * @param timeout how long until the response headers must have arrived
     * @throws IOException when the server cannot be reached or the token cannot be read
     */
    HttpResponse<InputStream> get(String pathAndQuery, Duration timeout) throws IOException, InterruptedException {
        var request = HttpRequest.newBuilder(URI.create(base + pathAndQuery))
                .timeout(timeout)
                .header("Accept", "application/json")
                .header("User-Agent", "ambit-waypoint");
        String token = token();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    /** The current token: read every time, since the kubelet replaces the file before the old token expires. */
    private String token() throws IOException {
        if (tokenFile == null) {
            return null;
        }
        long size = Files.size(tokenFile);
        if (size > MAX_TOKEN_BYTES) {
            throw new IOException(tokenFile + " is " + size + " bytes (expected: a service-account token of at most "
                    + MAX_TOKEN_BYTES + ")");
        }
        String t = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
        if (t.isEmpty() || t.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
            throw new IOException(tokenFile + " does not hold a token (expected: one line of printable ASCII)");
        }
        return t;
    }

    @Override
    public void close() {
        http.shutdownNow();
    }
}
