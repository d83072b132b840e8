package io.ambit.xds.client;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * The headers istiod authenticates a node by (ztunnel-reference §3.2, §4.1): {@code authorization: Bearer
 * <token>} from a projected service-account token file, {@code clusterid}, and any extra headers. The token
 * file is kubelet-rotated, so it is read again whenever its modification time or size changed — checked on
 * each call (one stat), read only when changed. A token file that cannot be read fails the call with
 * UNAUTHENTICATED naming the file, which the caller retries with backoff.
 */
public final class BearerToken extends CallCredentials {
    /** Bigger than any JWT; keeps a wrong path (a log file, a device) out of the heap. */
    static final long MAX_TOKEN_BYTES = 64 * 1024;

    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> CLUSTER_ID =
            Metadata.Key.of("clusterid", Metadata.ASCII_STRING_MARSHALLER);

    private final Path tokenFile;
    private final String clusterId;
    private final Map<String, String> headers;

    // guarded by this
    private Object stamp;
    private String token;

    /**
     * @param tokenFile the token file, or null to send no authorization header
     * @param clusterId the {@code clusterid} header value, or null/empty for none
     * @param headers   extra headers ({@code XDS_HEADER_<NAME>} / {@code CA_HEADER_<NAME>}), names lower-case
     */
    public BearerToken(Path tokenFile, String clusterId, Map<String, String> headers) {
        this.tokenFile = tokenFile;
        this.clusterId = clusterId;
        this.headers = Map.copyOf(headers);
    }

    @Override
    public void applyRequestMetadata(RequestInfo info, Executor appExecutor, MetadataApplier applier) {
        var md = new Metadata();
        try {
            if (tokenFile != null) {
                md.put(AUTHORIZATION, "Bearer " + token());
            }
        } catch (IOException e) {
            applier.fail(Status.UNAUTHENTICATED.withDescription("cannot read the token file " + tokenFile + ": "
                    + e.getMessage() + " (expected: a projected service-account token, audience istio-ca)"));
            return;
        }
        if (clusterId != null && !clusterId.isEmpty()) {
            md.put(CLUSTER_ID, clusterId);
        }
        headers.forEach((k, v) -> md.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
        applier.apply(md);
    }

    /** The current token, read again when the file changed since the last read. */
    synchronized String token() throws IOException {
        var a = Files.readAttributes(tokenFile, BasicFileAttributes.class);
        Object now = java.util.List.of(a.lastModifiedTime(), a.size(), String.valueOf(a.fileKey()));
        if (token == null || !now.equals(stamp)) {
            if (a.size() > MAX_TOKEN_BYTES) {
                throw new IOException("it is " + a.size() + " bytes (expected: at most " + MAX_TOKEN_BYTES + ")");
            }
            String text = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) {
                throw new IOException("it is empty");
            }
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c < 0x21 || c > 0x7e) {
                    throw new IOException("it holds a character that cannot go in a header (expected: a JWT)");
                }
            }
            token = text;
            stamp = now;
        }
        return token;
    }
}
