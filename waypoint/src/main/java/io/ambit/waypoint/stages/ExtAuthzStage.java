package io.ambit.waypoint.stages;

import io.ambit.policy.crd.Action;
import io.ambit.policy.engine.Decision;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.mesh.ExtensionProvider;
import io.ambit.waypoint.answer.LocalReply;
import io.ambit.waypoint.answer.ResponseFlag;
import io.ambit.waypoint.extauthz.CheckInput;
import io.ambit.waypoint.extauthz.ExtAuthzClient;
import io.ambit.waypoint.extauthz.ExtAuthzClients;
import io.ambit.waypoint.extauthz.ExtAuthzVerdict;
import io.ambit.waypoint.extauthz.HeaderOp;
import io.ambit.waypoint.ingress.WaypointIdentity;
import io.ambit.waypoint.pipeline.RequestContext;
import io.ambit.waypoint.pipeline.RequestStage;
import io.ambit.waypoint.pipeline.StageResult;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CUSTOM stage (authz-semantics §2.11): when a CUSTOM policy attached to the destination matches, the
 * request goes to that policy's ext_authz provider before anything else decides.
 *
 * <ol>
 *   <li>Ask the engine: with no provider answer yet, a matching CUSTOM policy gives verdict {@code CUSTOM}
 *       and names the provider; otherwise this stage does nothing.
 *   <li>When the provider wants the body ({@code includeRequestBodyInCheck}), read it first, up to
 *       {@code maxRequestBytes} ({@link io.ambit.waypoint.pipeline.RequestBody}); a longer body is 413 unless
 *       {@code allowPartialMessage}, which sends its first {@code maxRequestBytes}. The whole body still goes
 *       upstream when the provider allows.
 *   <li>Check with the provider ({@link ExtAuthzClients}; never blocks, never fails: an unreachable or slow
 *       provider is an error verdict, denied with {@code statusOnError} unless {@code failOpen}).
 *   <li>Back on the request's event loop: a denial answers the client with the provider's status, body and
 *       allowed headers (every value: two {@code set-cookie} stay two), flag {@code UAEX}; an allow records
 *       the answer (DENY/ALLOW still decide), applies the provider's header and query changes to the
 *       upstream request and keeps its {@code headersToDownstreamOnAllow} for the response.
 * </ol>
 */
public final class ExtAuthzStage implements RequestStage {
    private static final Logger log = LoggerFactory.getLogger(ExtAuthzStage.class);
    private static final Set<String> BODYLESS = Set.of("GET", "HEAD", "OPTIONS", "DELETE", "TRACE");

    private final ExtAuthzClients clients;
    private final WaypointIdentity self;

    /** Whether a snapshot has any CUSTOM policy at all, remembered for the last one seen. */
    private record CustomPolicies(PolicySnapshot policies, boolean any) {}

    private volatile CustomPolicies custom = new CustomPolicies(null, true);

    public ExtAuthzStage(ExtAuthzClients clients, WaypointIdentity self) {
        this.clients = clients;
        this.self = self;
    }

    @Override
    public CompletionStage<StageResult> apply(RequestContext request) {
        if (!anyCustom(request.mesh().policies())) {
            return StageResult.CONTINUE_NOW; // no CUSTOM policy anywhere: spare the request one decision
        }
        Decision d = request.decide();
        if (d.verdict() != Decision.Verdict.CUSTOM) {
            return StageResult.CONTINUE_NOW;
        }
        ExtAuthzClient client = clients.client(d.provider());
        ExtensionProvider.RequestBody wanted = client.body();
        if (wanted == null) {
            return check(request, client, null, false);
        }
        if (!mayHaveBody(request)) {
            return check(request, client, new byte[0], false);
        }
        if (contentLength(request) > wanted.maxRequestBytes() && !wanted.allowPartialMessage()) {
            return CompletableFuture.completedFuture(StageResult.respond(tooLarge(request, wanted)));
        }
        // The body arrives after the head: read it (bounded by maxRequestBytes) before asking the provider.
        // The read completes on the request's loop; the parts stay held and go upstream if the check allows.
        return request.body()
                .read(wanted.maxRequestBytes())
                .thenCompose(b -> b.truncated() && !wanted.allowPartialMessage()
                        ? CompletableFuture.completedFuture(StageResult.respond(tooLarge(request, wanted)))
                        : check(request, client, b.bytes(), b.truncated()));
    }

    /** Asks the provider ({@code body}: what was buffered, or null when it does not want the body). */
    private CompletionStage<StageResult> check(
            RequestContext request, ExtAuthzClient client, byte[] body, boolean truncated) {
        CompletableFuture<ExtAuthzVerdict> check =
                client.check(input(request, body, truncated)).toCompletableFuture();
        if (check.isDone() && !check.isCompletedExceptionally()) {
            return CompletableFuture.completedFuture(applied(request, check.join()));
        }
        // The answer comes on a provider connection's loop or a gRPC thread; the request is touched only on
        // its own loop.
        return check.thenApplyAsync(v -> applied(request, v), request.eventLoop());
    }

    private boolean anyCustom(PolicySnapshot policies) {
        CustomPolicies c = custom;
        if (c.policies() != policies) {
            boolean any =
                    policies.policies().authorizationPolicies().stream().anyMatch(p -> p.action() == Action.CUSTOM);
            c = new CustomPolicies(policies, any);
            custom = c; // a race only recomputes the same answer for one snapshot or the other
        }
        return c.any();
    }

    private StageResult applied(RequestContext request, ExtAuthzVerdict v) {
        request.extAuthz(v.answer());
        if (!v.allowed()) {
            log.debug("ext_authz denied {} {}: {}", request.method(), request.path(), v.detail());
            request.decide(); // so the access log names the CUSTOM policy with reason ext-authz, not "CUSTOM"
            return StageResult.respond(denial(v));
        }
        HttpHeaders headers = request.headers();
        for (HeaderOp op : v.upstream()) {
            op.apply(headers);
        }
        for (String name : v.upstreamRemove()) {
            headers.remove(name);
        }
        if (!v.queryToSet().isEmpty() || !v.queryToRemove().isEmpty()) {
            request.upstreamPath(Queries.edit(request.currentPath(), v.queryToSet(), v.queryToRemove()));
        }
        if (!v.downstream().isEmpty()) {
            List<HeaderOp> ops = v.downstream();
            request.editResponseHeaders(h -> ops.forEach(op -> op.apply(h)));
        }
        return StageResult.CONTINUE;
    }

    /** The provider's answer for the client: its status, body and the headers it may send. */
    static LocalReply denial(ExtAuthzVerdict v) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (HeaderOp op : v.downstream()) {
            op.apply(h);
        }
        var lines = new ArrayList<Map.Entry<String, String>>(h.size());
        for (Map.Entry<String, String> e : h) {
            lines.add(Map.entry(e.getKey(), e.getValue()));
        }
        return LocalReply.withLines(v.status(), v.body(), lines, ResponseFlag.UNAUTHORIZED_EXTERNAL_SERVICE);
    }

    /**
     * Envoy's answer when the body is longer than the provider's {@code maxRequestBytes} and it does not
     * accept part of it: 413, before the provider is asked. Logged: the provider never sees these.
     */
    private static LocalReply tooLarge(RequestContext request, ExtensionProvider.RequestBody wanted) {
        log.debug(
                "{} {}: body over maxRequestBytes {} of the ext_authz provider (allowPartialMessage: false): 413",
                request.method(),
                request.path(),
                wanted.maxRequestBytes());
        return new LocalReply(413, "Payload Too Large", Map.of(), ResponseFlag.NONE, false);
    }

    /** The declared {@code content-length}, or -1 (none; the codecs already refused malformed ones). */
    private static long contentLength(RequestContext request) {
        String length = request.headers().get(HttpHeaderNames.CONTENT_LENGTH);
        if (length != null) {
            try {
                return Long.parseLong(length.trim());
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return -1;
    }

    private CheckInput input(RequestContext request, byte[] body, boolean truncated) {
        var headers = request.headers();
        long size = contentLength(request);
        if (size < 0 && body != null && !truncated) {
            size = body.length; // read to its end: the size is known
        }
        var target = request.target();
        return CheckInput.builder()
                .request(request.method(), "http", request.authority(), request.currentPath(), request.protocol())
                .headers(request.headerMap())
                .source(
                        socket(request.peer().sourceIp().toString(), 0),
                        request.peer().principal())
                .destination(
                        socket(target.vip().ip().toString(), target.servicePort()),
                        self.identity().toString())
                .requestId(headers.get("x-request-id"))
                .time(request.time())
                .body(body, truncated, size)
                .build();
    }

    private static boolean mayHaveBody(RequestContext request) {
        var headers = request.headers();
        String length = headers.get(HttpHeaderNames.CONTENT_LENGTH);
        if (length != null) {
            return !length.trim().equals("0");
        }
        return headers.contains(HttpHeaderNames.TRANSFER_ENCODING) || !BODYLESS.contains(request.method());
    }

    private static InetSocketAddress socket(String literal, int port) {
        try {
            return new InetSocketAddress(InetAddress.ofLiteral(literal), port);
        } catch (IllegalArgumentException e) {
            return null; // not an IP literal (never for mesh addresses): the provider gets no address
        }
    }
}
