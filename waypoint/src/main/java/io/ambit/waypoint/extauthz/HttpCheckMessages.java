package io.ambit.waypoint.extauthz;

import io.ambit.policy.mesh.ExtensionProvider;
import io.ambit.policy.mesh.HeaderPattern;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The HTTP provider's messages, as Envoy's ext_authz HTTP service builds and reads them (Istio's
 * {@code envoyExtAuthzHttp}): the check request, and the verdict from the provider's response.
 */
final class HttpCheckMessages {
    /** Always sent: Envoy adds Host, Method, Path (the request line here) and Authorization to any list. */
    private static final List<HeaderPattern> ALWAYS = List.of(HeaderPattern.parse("authorization"));

    /** Sent to the client on deny whenever {@code headersToDownstreamOnDeny} lists anything (Envoy's defaults). */
    private static final List<HeaderPattern> DENY_DEFAULTS =
            List.of(HeaderPattern.parse("www-authenticate"), HeaderPattern.parse("location"));

    /** Envoy's header on the check request telling the provider the body was cut. */
    static final String PARTIAL_BODY = "x-envoy-auth-partial-body";

    /** The provider's way to remove request headers on allow (comma-separated names). */
    static final String HEADERS_TO_REMOVE = "x-envoy-auth-headers-to-remove";

    private HttpCheckMessages() {}

    /**
     * The check request: original method, {@code pathPrefix + path}, Host, Authorization, the headers that
     * match {@code includeRequestHeadersInCheck} (all values, joined), then the fixed additional headers;
     * the buffered body when the provider asks for it.
     */
    static FullHttpRequest request(ExtensionProvider.ExtAuthzHttp p, CheckInput in) {
        byte[] body = p.includeRequestBodyInCheck() != null && in.body() != null ? bodyFor(p, in) : new byte[0];
        var req = new DefaultFullHttpRequest(
                HttpVersion.HTTP_1_1,
                HttpMethod.valueOf(in.method()),
                p.pathPrefix() + (in.path() == null ? "/" : in.path()),
                Unpooled.wrappedBuffer(body));
        var h = req.headers();
        if (in.authority() != null && SafeHeaders.safeValue(in.authority())) {
            h.set(HttpHeaderNames.HOST, in.authority());
        }
        for (String name : in.headers().keySet()) {
            if (SafeHeaders.FRAMING.contains(name) || name.startsWith(":")) {
                continue;
            }
            if (matches(ALWAYS, name) || matches(p.includeRequestHeadersInCheck(), name)) {
                String v = in.joined(name);
                if (v != null && SafeHeaders.safeValue(v)) {
                    h.set(name, v);
                }
            }
        }
        p.includeAdditionalHeadersInCheck().forEach(h::set);
        if (p.includeRequestBodyInCheck() != null && in.body() != null) {
            h.set(PARTIAL_BODY, Boolean.toString(in.bodyTruncated() || body.length < in.body().length));
        }
        h.set(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return req;
    }

    private static byte[] bodyFor(ExtensionProvider.ExtAuthzHttp p, CheckInput in) {
        int max = p.includeRequestBodyInCheck().maxRequestBytes();
        return in.body().length <= max ? in.body() : java.util.Arrays.copyOf(in.body(), max);
    }

    /** The provider's response, copied out of Netty's buffers. */
    record Response(int status, List<Map.Entry<String, String>> headers, String body, boolean keepAlive) {}

    /** 200 allows, a 5xx (or a status below 200) is an error, anything else denies with that status. */
    static ExtAuthzVerdict verdict(ExtensionProvider.ExtAuthzHttp p, Response r) {
        String who = "ext_authz provider \"" + p.name() + "\"";
        if (r.status() >= 500 || r.status() < 200) {
            return ExtAuthzVerdict.error(p.failOpen(), p.statusOnError(), who + " answered " + r.status());
        }
        if (r.status() == 200) {
            var upstream = ops(r.headers(), p.headersToUpstreamOnAllow(), HeaderOp.Action.SET);
            var downstream = ops(r.headers(), p.headersToDownstreamOnAllow(), HeaderOp.Action.APPEND);
            var remove = new ArrayList<String>();
            for (var e : r.headers()) {
                if (e.getKey().equals(HEADERS_TO_REMOVE)) {
                    for (String n : e.getValue().split(",")) {
                        String w = SafeHeaders.writableName(n.strip());
                        if (w != null && !remove.contains(w)) {
                            remove.add(w);
                        }
                    }
                }
            }
            return ExtAuthzVerdict.allow(upstream, remove, downstream, List.of(), List.of(), who + " allowed");
        }
        List<HeaderOp> headers;
        if (p.headersToDownstreamOnDeny().isEmpty()) {
            headers = ops(r.headers(), null, HeaderOp.Action.SET); // Envoy: every header but Host
        } else {
            var patterns = new ArrayList<>(p.headersToDownstreamOnDeny());
            patterns.addAll(DENY_DEFAULTS);
            headers = ops(r.headers(), patterns, HeaderOp.Action.SET);
        }
        return ExtAuthzVerdict.deny(r.status(), r.body(), headers, who + " denied with " + r.status());
    }

    /**
     * The response headers that match (every safe one when {@code patterns} is null). A name seen again
     * is appended, so repeated headers such as {@code set-cookie} all survive.
     */
    private static List<HeaderOp> ops(
            List<Map.Entry<String, String>> headers, List<HeaderPattern> patterns, HeaderOp.Action action) {
        var out = new ArrayList<HeaderOp>();
        Set<String> seen = new HashSet<>();
        for (var e : headers) {
            String name = SafeHeaders.writableName(e.getKey());
            if (name == null || name.equals(HEADERS_TO_REMOVE) || !SafeHeaders.safeValue(e.getValue())) {
                continue;
            }
            if (patterns != null && !matches(patterns, name)) {
                continue;
            }
            var a = action == HeaderOp.Action.SET && !seen.add(name) ? HeaderOp.Action.APPEND : action;
            out.add(new HeaderOp(name, e.getValue(), a));
        }
        return out;
    }

    private static boolean matches(List<HeaderPattern> patterns, String name) {
        for (HeaderPattern p : patterns) {
            if (p.matches(name)) {
                return true;
            }
        }
        return false;
    }
}
