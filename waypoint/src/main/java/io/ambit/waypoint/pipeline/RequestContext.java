package io.ambit.waypoint.pipeline;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision;
import io.ambit.policy.engine.Token;
import io.ambit.waypoint.answer.LocalReply;
import io.ambit.waypoint.ingress.Peer;
import io.ambit.waypoint.ingress.Target;
import io.ambit.xds.mesh.MeshState;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One request on its way through the pipeline: what arrived (read-only facts) and what the stages found
 * out (token, ext_authz answer, decision). Confined to the request's event loop: stages read and write it
 * there only (a stage that completes on another thread must not touch it from there).
 *
 * <p>{@link #headers()} are the headers that will go upstream, already cleaned of hop-by-hop and
 * internal headers; stages may add to them (ext_authz {@code headersToUpstreamOnAllow}, JWT
 * {@code outputClaimToHeaders}) or remove from them ({@code forwardOriginalToken: false}).
 */
public final class RequestContext {
    private final MeshState mesh;
    private final Peer peer;
    private final Target target;
    private final EventLoop eventLoop;
    private final String method;
    private final String authority;
    private final String rawPath;
    private final String path;
    private final HttpHeaders headers;
    private final boolean grpc;
    private final Instant time;
    private Token token = Token.NONE;
    private AccessRequest.ExtAuthzAnswer extAuthz;
    private Decision decision;
    private String protocol;
    private LocalReply authenticationFailure;
    private String upstreamPath;
    private List<Consumer<HttpHeaders>> responseEdits;
    private RequestBody body = RequestBody.UNAVAILABLE;
    private Object connection;

    /**
     * @param rawPath the request target as the client sent it (query included), for stages that read
     *     query parameters
     * @param path the normalized path with the query: what authorization matches and the upstream gets
     */
    public RequestContext(
            MeshState mesh,
            Peer peer,
            Target target,
            EventLoop eventLoop,
            String method,
            String authority,
            String rawPath,
            String path,
            HttpHeaders headers,
            boolean grpc,
            Instant time) {
        this.mesh = mesh;
        this.peer = peer;
        this.target = target;
        this.eventLoop = eventLoop;
        this.method = method;
        this.authority = authority;
        this.rawPath = rawPath;
        this.path = path;
        this.headers = headers;
        this.grpc = grpc;
        this.time = time;
    }

    /** The mesh state this request is decided and routed with (read once when it arrived). */
    public MeshState mesh() {
        return mesh;
    }

    /** The verified client. */
    public Peer peer() {
        return peer;
    }

    /** The destination service. */
    public Target target() {
        return target;
    }

    /** The event loop this request lives on. */
    public EventLoop eventLoop() {
        return eventLoop;
    }

    public String method() {
        return method;
    }

    /** {@code Host} or {@code :authority} as sent. */
    public String authority() {
        return authority;
    }

    /** The request target as sent, query included. */
    public String rawPath() {
        return rawPath;
    }

    /** The normalized path, query included: what is matched and forwarded. */
    public String path() {
        return path;
    }

    /** The headers to forward (mutable, see the class comment). */
    public HttpHeaders headers() {
        return headers;
    }

    /** Whether this is a gRPC call ({@code content-type: application/grpc...}): denials answer in gRPC's form. */
    public boolean grpc() {
        return grpc;
    }

    /** {@code HTTP/1.1} or {@code HTTP/2}, as the client spoke (told an ext_authz provider). */
    public String protocol() {
        return protocol != null ? protocol : grpc ? "HTTP/2" : "HTTP/1.1";
    }

    /** Records the client's protocol ({@code HTTP/1.1} or {@code HTTP/2}). */
    public void protocol(String value) {
        this.protocol = value;
    }

    /** When the request arrived (for extended time conditions and logs). */
    public Instant time() {
        return time;
    }

    public Token token() {
        return token;
    }

    /** Records what RequestAuthentication found ({@code Verified} or {@code Invalid}). */
    public void token(Token value) {
        this.token = value == null ? Token.NONE : value;
    }

    public AccessRequest.ExtAuthzAnswer extAuthz() {
        return extAuthz;
    }

    /** Records the CUSTOM provider's answer. */
    public void extAuthz(AccessRequest.ExtAuthzAnswer value) {
        this.extAuthz = value;
    }

    /**
     * The reply RequestAuthentication prepared for a refused token (Envoy's 401 or 403 with its
     * {@code WWW-Authenticate}), or null: sent when the decision is a JWT denial.
     */
    public LocalReply authenticationFailure() {
        return authenticationFailure;
    }

    /** Records the reply for a refused token; see {@link #authenticationFailure()}. */
    public void authenticationFailure(LocalReply reply) {
        this.authenticationFailure = reply;
    }

    /**
     * The request target to send upstream when a stage changed it (a query-parameter token removed, a
     * provider's query changes), else null: {@link #path()} is sent.
     */
    public String upstreamPath() {
        return upstreamPath;
    }

    /**
     * Sends {@code value} upstream instead of {@link #path()}. Only the query may differ: authorization
     * matched the path, and what was matched is what the upstream gets.
     *
     * @throws IllegalArgumentException when the path part differs from the matched one
     */
    public void upstreamPath(String value) {
        if (!pathPart(value).equals(pathPart(path))) {
            throw new IllegalArgumentException(
                    "upstream path " + value + " changes the path of " + path + " (expected: only its query)");
        }
        this.upstreamPath = value;
    }

    /** The request target as it is now: {@link #upstreamPath()} if a stage changed it, else {@link #path()}. */
    public String currentPath() {
        return upstreamPath != null ? upstreamPath : path;
    }

    /**
     * Asks for a change to the upstream's response headers (an authorizer's
     * {@code headersToDownstreamOnAllow}, {@code x-ratelimit-*}), applied in order when the response head
     * arrives.
     */
    public void editResponseHeaders(Consumer<HttpHeaders> edit) {
        if (responseEdits == null) {
            responseEdits = new ArrayList<>(2);
        }
        responseEdits.add(edit);
    }

    /** Applies the changes {@link #editResponseHeaders} asked for to the upstream's response head. */
    public void applyResponseEdits(HttpHeaders responseHeaders) {
        if (responseEdits != null) {
            for (var edit : responseEdits) {
                edit.accept(responseHeaders);
            }
        }
    }

    /** The request's body, readable before it is routed (see {@link RequestBody}). */
    public RequestBody body() {
        return body;
    }

    /** Sets where {@link #body()} reads from: the exchange that received the request. */
    public void body(RequestBody value) {
        this.body = value == null ? RequestBody.UNAVAILABLE : value;
    }

    /**
     * The downstream connection the request came on (the HBONE tunnel): the same object for every request
     * of one connection, another for each connection, or null when unknown. For per-connection state (an
     * Envoy {@code local_rate_limit_per_downstream_connection} bucket); never an identity.
     */
    public Object connection() {
        return connection;
    }

    /** Sets {@link #connection()}. */
    public void connection(Object value) {
        this.connection = value;
    }

    /** The last decision {@link #decide()} made (or a later stage recorded), or null. */
    public Decision decision() {
        return decision;
    }

    /**
     * Records the decision of a stage that refused after authorization allowed (a rate limit), so the access log and
     * the trace name what refused the request rather than the policy that had allowed it.
     */
    public void decision(Decision value) {
        this.decision = value;
    }

    /**
     * The policy engine's L7 decision for this request as it stands (token and ext_authz answer so far),
     * over the policies attached to the target Service and this waypoint. With no ext_authz answer yet,
     * a matching CUSTOM policy yields verdict {@code CUSTOM} naming the provider.
     */
    public Decision decide() {
        decision = mesh.policies().decideL7(accessRequest());
        return decision;
    }

    /** This request as the policy engine sees it. */
    public AccessRequest accessRequest() {
        return new AccessRequest(
                peer.policyIdentity(),
                peer.sourceIp(),
                null,
                target.destination(),
                target.vip().ip(),
                target.targetPort(),
                method,
                authority,
                path,
                headerMap(headers),
                token,
                null,
                extAuthz,
                time);
    }

    /**
     * The headers as they are now ({@link #headers()}), lower-case names, every value of a repeated header
     * kept: what the JWT stage and an ext_authz check read.
     */
    public Map<String, List<String>> headerMap() {
        return headerMap(headers);
    }

    private static String pathPart(String target) {
        int q = target.indexOf('?');
        return q >= 0 ? target.substring(0, q) : target;
    }

    /** Lower-case names, every value of a repeated header kept (rules match per value: CVE-2026-26308). */
    static Map<String, List<String>> headerMap(HttpHeaders headers) {
        Map<String, List<String>> out = new LinkedHashMap<>(headers.size() * 2);
        // By CharSequence: iterating as Map.Entry<String, String> makes one more entry object per header. A name
        // sent once (nearly all) maps to an immutable one-value list; a second value makes it an ArrayList.
        for (var it = headers.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            String name = e.getKey().toString().toLowerCase(Locale.ROOT);
            String value = e.getValue().toString();
            List<String> values = out.putIfAbsent(name, List.of(value));
            if (values != null) {
                if (!(values instanceof ArrayList)) {
                    values = new ArrayList<>(values);
                    out.put(name, values);
                }
                values.add(value);
            }
        }
        return out;
    }
}
