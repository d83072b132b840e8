package io.ambit.waypoint.jwt;

import com.nimbusds.jose.util.JSONObjectUtils;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;

/**
 * Fetches JWKS documents over HTTP(S) with the JDK client on its own virtual threads, never on a Netty
 * event loop. Every response is bounded: a status other than 200, a body over the size limit, a timeout
 * or a document that is not a JWKS is a failure, and a failure never yields keys.
 */
final class JwksFetcher implements AutoCloseable {
    private final HttpClient client;
    private final ExecutorService executor;
    private final Duration timeout;
    private final int maxBytes;

    JwksFetcher(Duration timeout, int maxBytes) {
        this.executor = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("ambit-jwks-", 0).factory());
        this.timeout = timeout;
        this.maxBytes = maxBytes;
        this.client = HttpClient.newBuilder()
                .executor(executor)
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .version(HttpClient.Version.HTTP_1_1)
                .build();
    }

    /** The key set at {@code uri}; completes exceptionally with a message that says what went wrong. */
    CompletionStage<KeySet> fetch(URI uri) {
        return get(uri).thenApply(body -> {
            KeySet keys;
            try {
                keys = KeySet.parse(body);
            } catch (ParseException e) {
                throw new JwksUnavailableException(uri + ": not a JWKS: " + e.getMessage());
            }
            if (keys.isEmpty()) {
                // A failure, not a key set: the keys fetched before keep serving (Envoy: JwksNoValidKeys).
                throw new JwksUnavailableException(uri + ": JWKS has no usable key"
                        + (keys.problems().isEmpty() ? " (\"keys\" is empty)" : ": " + keys.problems()));
            }
            return keys;
        });
    }

    /**
     * OpenID discovery for a rule without {@code jwks} or {@code jwksUri}: {@code jwks_uri} from
     * {@code <issuer>/.well-known/openid-configuration}, then that document.
     */
    CompletionStage<KeySet> discover(String issuer) {
        URI config;
        try {
            String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
            config = URI.create(base + "/.well-known/openid-configuration");
            if (!"https".equals(config.getScheme()) && !"http".equals(config.getScheme())) {
                throw new IllegalArgumentException("not an http(s) URL");
            }
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(new JwksUnavailableException("issuer \"" + issuer
                    + "\" is not a URL, so its keys cannot be discovered (expected: jwks or jwksUri in the rule)"));
        }
        return get(config).thenCompose(body -> {
            try {
                var doc = JSONObjectUtils.parse(body);
                if (!(doc.get("jwks_uri") instanceof String s)) {
                    throw new JwksUnavailableException(config + ": no jwks_uri string");
                }
                URI jwks = URI.create(s);
                if (!"https".equals(jwks.getScheme()) && !"http".equals(jwks.getScheme())) {
                    throw new JwksUnavailableException(config + ": jwks_uri \"" + s + "\" is not an http(s) URL");
                }
                return fetch(jwks);
            } catch (ParseException | IllegalArgumentException e) {
                throw new JwksUnavailableException(config + ": not an OpenID configuration: " + e.getMessage());
            }
        });
    }

    private CompletionStage<String> get(URI uri) {
        HttpRequest request;
        try {
            request = HttpRequest.newBuilder(uri)
                    .timeout(timeout)
                    .header("Accept", "application/json")
                    .GET()
                    .build();
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(new JwksUnavailableException(uri + ": " + e.getMessage()));
        }
        return client.sendAsync(
                        request,
                        info -> info.statusCode() == 200
                                ? new Limited(maxBytes)
                                : HttpResponse.BodySubscribers.replacing((String) null))
                .handle((response, error) -> {
                    if (error != null) {
                        Throwable cause = error.getCause() != null ? error.getCause() : error;
                        if (cause instanceof JwksUnavailableException j) {
                            throw j;
                        }
                        throw new JwksUnavailableException(uri + ": " + describe(cause));
                    }
                    if (response.statusCode() != 200) {
                        throw new JwksUnavailableException(
                                uri + ": HTTP status " + response.statusCode() + " (expected: 200)");
                    }
                    return response.body();
                });
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    @Override
    public void close() {
        client.shutdownNow();
        executor.shutdownNow();
    }

    /** Collects at most {@code max} bytes, and fails (cancelling the download) beyond that. */
    private static final class Limited implements HttpResponse.BodySubscriber<String> {
        private final int max;
        private final CompletableFuture<String> body = new CompletableFuture<>();
        private final java.io.ByteArrayOutputStream buffer = new java.io.ByteArrayOutputStream();
        private Flow.Subscription subscription;

        Limited(int max) {
            this.max = max;
        }

        @Override
        public CompletionStage<String> getBody() {
            return body;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            this.subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (body.isDone()) {
                return;
            }
            for (ByteBuffer b : items) {
                if (buffer.size() + b.remaining() > max) {
                    subscription.cancel();
                    body.completeExceptionally(new JwksUnavailableException(
                            "response body is larger than " + max + " bytes (expected: a JWKS document)"));
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                buffer.writeBytes(chunk);
            }
        }

        @Override
        public void onError(Throwable t) {
            body.completeExceptionally(t instanceof IOException ? t : new IOException(t));
        }

        @Override
        public void onComplete() {
            body.complete(buffer.toString(StandardCharsets.UTF_8));
        }
    }
}
