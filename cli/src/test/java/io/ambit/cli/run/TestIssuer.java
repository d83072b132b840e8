package io.ambit.cli.run;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A token issuer: an RSA key made for this run, its JWKS served by a real HTTP server at
 * {@code /jwks.json}, and tokens signed with it (or, for refusals, with a stranger's key under the same kid).
 */
final class TestIssuer implements AutoCloseable {
    static final String ISSUER = "https://issuer.ambit.test";

    private final RSAKey key;
    private final RSAKey stranger;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    final AtomicInteger fetches = new AtomicInteger();

    TestIssuer(String ip) throws Exception {
        key = new RSAKeyGenerator(2048).keyID("k1").generate();
        stranger = new RSAKeyGenerator(2048).keyID("k1").generate();
        byte[] jwks = new JWKSet(key.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
        server = HttpServer.create(new InetSocketAddress(ip, 0), 0);
        server.createContext("/jwks.json", exchange -> {
            fetches.incrementAndGet();
            exchange.getResponseHeaders().set("content-type", "application/json");
            exchange.sendResponseHeaders(200, jwks.length);
            exchange.getResponseBody().write(jwks);
            exchange.close();
        });
        server.setExecutor(executor);
        server.start();
    }

    String jwksUri() {
        var a = server.getAddress();
        return "http://" + a.getAddress().getHostAddress() + ":" + a.getPort() + "/jwks.json";
    }

    /** A valid token for {@code subject}, an hour long. */
    String token(String subject) throws Exception {
        return sign(key, subject, Instant.now().plusSeconds(3600));
    }

    /** Signed by another key that claims the same kid: the signature does not verify. */
    String forged(String subject) throws Exception {
        return sign(stranger, subject, Instant.now().plusSeconds(3600));
    }

    /** Expired well past Envoy's 60 s clock skew. */
    String expired(String subject) throws Exception {
        return sign(key, subject, Instant.now().minusSeconds(600));
    }

    private static String sign(RSAKey with, String subject, Instant expiry) throws Exception {
        var claims = new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .subject(subject)
                .expirationTime(Date.from(expiry))
                .issueTime(Date.from(Instant.now().minusSeconds(5)))
                .build();
        var jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(with.getKeyID()).build(), claims);
        jwt.sign(new RSASSASigner(with));
        return jwt.serialize();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
