package io.ambit.waypoint.proxy;

import io.ambit.policy.path.InvalidPathException;
import io.ambit.policy.path.PathNormalizer;
import io.ambit.waypoint.answer.LocalReply;
import io.ambit.waypoint.answer.Replies;
import io.ambit.waypoint.answer.ResponseFlag;
import io.ambit.waypoint.ingress.HostNames;
import io.ambit.waypoint.ingress.Tunnel;
import io.ambit.waypoint.pipeline.RequestBody;
import io.ambit.waypoint.pipeline.RequestContext;
import io.ambit.waypoint.route.Deadlines;
import io.ambit.waypoint.route.Endpoint;
import io.ambit.waypoint.route.LoopUpstreams;
import io.ambit.waypoint.route.Upstream;
import io.ambit.waypoint.route.UpstreamKey;
import io.ambit.waypoint.route.UpstreamListener;
import io.ambit.waypoint.telemetry.RequestRecord;
import io.ambit.waypoint.tracing.TraceContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One request through the waypoint, read top to bottom in its phases: <b>receive</b> (validate the head,
 * normalize the path, clean the headers, trace context) → <b>decide</b> (the pipeline: CUSTOM → JWT →
 * DENY → ALLOW → rate limit) → <b>route</b> (pick an endpoint, take an upstream connection or stream; one
 * retry on another endpoint when an idempotent request cannot connect) → <b>proxy</b> (request body up,
 * response down, each side paced by the other's writability) → <b>complete</b> (metrics, access log,
 * span). Every failure answers through {@link LocalReply} (before the response started) or ends both sides
 * (after). Runs entirely on the downstream's event loop, which its upstream shares.
 */
public final class Exchange extends Deadlines.Entry implements UpstreamListener, RequestBody {
    private static final Set<HttpMethod> IDEMPOTENT = Set.of(
            HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS, HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.TRACE);
    private static final int MAX_AUTHORITY = 512;
    private static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");

    private enum State {
        DECIDING,
        CONNECTING,
        PROXYING,
        DONE
    }

    private final Downstream down;
    private final ProxyServices services;
    private final Tunnel tunnel;
    private final HttpRequest head;
    private final boolean http1;
    private final long startNanos = System.nanoTime();
    private final Instant start;
    private final ArrayDeque<HttpContent> pending = new ArrayDeque<>(1);
    private State state = State.DECIDING;
    private RequestContext request;
    private TraceContext trace;
    private String requestId;
    private String authority;
    private boolean grpc;
    private boolean clientKeepAlive;
    private boolean expectContinue;
    private Upstream upstream;
    private Endpoint endpoint;
    private int attempts;
    private boolean requestComplete;
    private boolean headWritten;
    private boolean requestSent;
    private boolean awaitingMore;
    private boolean responseStarted;
    private boolean responseComplete;
    private boolean upstreamKeepAlive = true;
    private boolean skipInformational;
    private boolean unflushed;
    private int status;
    private String grpcStatus;
    private ResponseFlag flag = ResponseFlag.NONE;
    private long bytesIn;
    private long bytesOut;
    private long lastActivity = startNanos;
    private Deadlines deadlines; // the loop's timeouts, once the request is routed
    private CompletableFuture<RequestBody.Buffered> bodyRead; // a stage waits for the body (while deciding)
    private int bodyLimit;
    private long heldBytes; // body bytes held (head + pending) while a stage reads the body

    private Exchange(Downstream down, ProxyServices services, Tunnel tunnel, HttpRequest head, boolean http1) {
        this.down = down;
        this.services = services;
        this.tunnel = tunnel;
        this.head = head;
        this.http1 = http1;
        this.start = services.clock().instant();
    }

    /**
     * An exchange for a request head that {@code down} just read; the head (and its body, if it is a full
     * request) is owned by the exchange from now on. Keep the reference, then {@link #start()} it: the
     * exchange may end (and tell {@code down}) before {@code start} returns.
     */
    public static Exchange of(Downstream down, ProxyServices services, Tunnel tunnel, HttpRequest head, boolean http1) {
        return new Exchange(down, services, tunnel, head, http1);
    }

    /** Runs the exchange from the head on. */
    public void start() {
        receive();
    }

    // ---- phase 1: receive

    private void receive() {
        if (head instanceof HttpContent body) {
            bytesIn += body.content().readableBytes();
            requestComplete = head instanceof LastHttpContent;
        }
        HttpHeaders headers = head.headers();
        clientKeepAlive = !http1 || HttpUtil.isKeepAlive(head);
        grpc = startsWith(headers.get(HttpHeaderNames.CONTENT_TYPE), "application/grpc");
        authority = headers.get(HttpHeaderNames.HOST);
        if (head.decoderResult().isFailure()) {
            Throwable cause = head.decoderResult().cause();
            answer(LocalReply.badRequest(cause == null ? "malformed request" : cause.getMessage()));
            return;
        }
        String invalid = validate(headers);
        if (invalid != null) {
            answer(LocalReply.badRequest(invalid));
            return;
        }
        String host = HostNames.withoutTrailingDot(authority);
        if (!host.equals(authority)) {
            authority = host; // one spelling for the policy and the app (security case 4)
            headers.set(HttpHeaderNames.HOST, host);
        }
        String raw = head.uri();
        String path;
        try {
            path = normalize(raw);
        } catch (InvalidPathException e) {
            answer(LocalReply.badRequest(e.getMessage()));
            return;
        }
        head.setUri(path); // what the policy matched is what the upstream gets (CVE-2021-29492)
        if (http1) {
            head.setProtocolVersion(HttpVersion.HTTP_1_1);
            expectContinue = HttpUtil.is100ContinueExpected(head);
        }
        RequestHeaders.clean(headers, http1);
        requestId = RequestHeaders.requestId(headers);
        trace = TraceContext.from(headers, services.samplingPercent());
        trace.propagate(headers);
        request = new RequestContext(
                services.mesh().current(),
                tunnel.peer(),
                tunnel.target(),
                down.eventLoop(),
                head.method().name(),
                authority,
                raw,
                path,
                headers,
                grpc,
                start);
        request.protocol(down.protocol());
        request.body(this);
        request.connection(tunnel); // one Tunnel per accepted CONNECT: per-connection rate limits
        services.pipeline().run(request, down::isActive, this::decided);
    }

    /** Why the head cannot be served, or null. */
    private String validate(HttpHeaders headers) {
        HttpMethod method = head.method();
        if (method == HttpMethod.CONNECT) {
            return "CONNECT is not supported through the waypoint";
        }
        String uri = head.uri();
        if (uri.isEmpty() || (uri.charAt(0) != '/' && !(uri.equals("*") && method == HttpMethod.OPTIONS))) {
            return "request target \"" + clip(uri) + "\" is not an absolute path (expected origin-form: /path)";
        }
        if (http1) {
            int hosts = headers.getAll(HttpHeaderNames.HOST).size();
            if (hosts != 1) {
                return hosts == 0 ? "no Host header" : "Host header sent " + hosts + " times";
            }
        }
        if (authority == null || authority.isEmpty()) {
            return "no :authority";
        }
        if (authority.length() > MAX_AUTHORITY) {
            return "authority of " + authority.length() + " bytes (expected at most " + MAX_AUTHORITY + ")";
        }
        String expect = headers.get(HttpHeaderNames.EXPECT);
        if (expect != null && !expect.equalsIgnoreCase("100-continue")) {
            return "unsupported Expect: " + clip(expect);
        }
        return null;
    }

    /** The normalized path with the query the client sent; the fragment is dropped (CVE-2021-39156). */
    private String normalize(String raw) {
        int hash = raw.indexOf('#');
        String noFragment = hash >= 0 ? raw.substring(0, hash) : raw;
        int q = noFragment.indexOf('?');
        String normalized = PathNormalizer.normalize(
                noFragment, services.mesh().current().mesh().pathNormalization());
        return q >= 0 ? normalized + noFragment.substring(q) : normalized;
    }

    // ---- phase 2: decide

    private void decided(LocalReply reply) {
        if (state != State.DECIDING) {
            return;
        }
        if (reply != null) {
            answer(reply);
            return;
        }
        if (request.upstreamPath() != null) {
            head.setUri(request.upstreamPath()); // only the query differs (a query-parameter token removed)
        }
        if (expectContinue) {
            down.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        route(null);
    }

    /**
     * {@link RequestBody#read}: the parts read are held in {@code pending} and go upstream after the
     * decision like any part that arrived while deciding.
     */
    @Override
    public CompletionStage<RequestBody.Buffered> read(int maxBytes) {
        if (state != State.DECIDING || bodyRead != null) {
            return CompletableFuture.failedFuture(
                    new IllegalStateException("the request body is read once, while the request is decided"));
        }
        bodyRead = new CompletableFuture<>();
        bodyLimit = Math.max(0, maxBytes);
        if (expectContinue) {
            // The client holds the body back until this; Envoy answers 100-continue itself, before its filters.
            expectContinue = false;
            down.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        heldBytes = head instanceof HttpContent c ? c.content().readableBytes() : 0;
        for (HttpContent c : pending) {
            heldBytes += c.content().readableBytes();
        }
        bodyProgress();
        return bodyRead;
    }

    /** Completes the body read when the body ended or passed the limit, else asks the client for more. */
    private void bodyProgress() {
        if (requestComplete || heldBytes > bodyLimit) {
            bodyRead.complete(new RequestBody.Buffered(heldPrefix(bodyLimit), heldBytes > bodyLimit));
        } else if (!awaitingMore) {
            awaitingMore = true;
            down.requestMore(); // reading returns flow-control credit: the client can send up to the limit
        }
    }

    /** A copy of the first {@code max} held body bytes (the held buffers stay as they are, to go upstream). */
    private byte[] heldPrefix(int max) {
        byte[] out = new byte[(int) Math.min(heldBytes, max)];
        int at = head instanceof HttpContent c ? copy(c, out, 0) : 0;
        for (HttpContent c : pending) {
            if (at == out.length) {
                break;
            }
            at = copy(c, out, at);
        }
        return out;
    }

    private static int copy(HttpContent part, byte[] out, int at) {
        var content = part.content();
        int n = Math.min(content.readableBytes(), out.length - at);
        content.getBytes(content.readerIndex(), out, at, n);
        return at + n;
    }

    // ---- phase 3: route

    private void route(Endpoint avoid) {
        state = State.CONNECTING;
        var picked = services.picker().pick(request.mesh(), tunnel.target(), avoid);
        if (picked.isEmpty()) {
            answer(LocalReply.noHealthyUpstream());
            return;
        }
        endpoint = picked.get();
        attempts++;
        LoopUpstreams upstreams = services.upstreams().apply(down.eventLoop());
        deadlines = upstreams.deadlines();
        CompletableFuture<Upstream> acquired =
                upstreams.acquire(new UpstreamKey(endpoint, !http1), trace::asTraceParent);
        if (acquired.isDone()) {
            // A pooled connection or a stream on an open session (the common case): no connect timeout to
            // arm and cancel for it, no scheduling on the event loop, and no completion object per request.
            if (acquired.isCompletedExceptionally()) {
                acquired.whenComplete(this::connected);
            } else {
                connected(acquired.getNow(null), null);
            }
            return;
        }
        armTimer(services.route().connectTimeout().toNanos());
        acquired.whenComplete((u, error) -> {
            if (down.eventLoop().inEventLoop()) {
                connected(u, error);
            } else {
                down.eventLoop().execute(() -> connected(u, error));
            }
        });
    }

    private void connected(Upstream u, Throwable error) {
        if (state != State.CONNECTING) {
            if (u != null) {
                u.release(true); // timed out or the client left meanwhile: the connection is still good
            }
            return;
        }
        cancelTimer();
        if (error != null) {
            if (attempts < 2 && IDEMPOTENT.contains(head.method())) {
                route(endpoint); // once more, on another endpoint when there is one
            } else {
                answer(LocalReply.upstreamConnectFailure(reason(error)));
            }
            return;
        }
        upstream = u;
        u.listen(this);
        state = State.PROXYING;
        long requestTimeout = services.route().requestTimeout().toNanos();
        armTimer(requestTimeout > 0 ? Math.min(requestTimeout, idleNanos()) : idleNanos());
        requestSent = requestComplete && pending.isEmpty();
        headWritten = true;
        u.write(head);
        for (HttpContent c; (c = pending.poll()) != null; ) {
            requestSent = c instanceof LastHttpContent;
            u.write(c);
        }
        more();
    }

    // ---- phase 4: proxy

    /** A request part from the client (after the head). */
    public void onRequestPart(HttpContent part) {
        awaitingMore = false;
        lastActivity = System.nanoTime();
        bytesIn += part.content().readableBytes();
        boolean last = part instanceof LastHttpContent;
        requestComplete |= last;
        switch (state) {
            case DECIDING, CONNECTING -> {
                pending.add(part);
                if (bodyRead != null && !bodyRead.isDone()) {
                    heldBytes += part.content().readableBytes();
                    bodyProgress();
                }
            }
            case PROXYING -> {
                requestSent = last;
                upstream.write(part);
                if (last) {
                    finishIfDone();
                } else {
                    more();
                }
            }
            case DONE -> {
                ReferenceCountUtil.release(part);
                if (!last) {
                    more(); // drain a body nobody will read (bounded by the client's own framing)
                }
            }
        }
    }

    private void more() {
        if (!requestComplete && !awaitingMore && (state != State.PROXYING || upstream.isWritable())) {
            awaitingMore = true;
            down.requestMore();
        }
    }

    @Override
    public void onUpstreamWritable() {
        if (state == State.PROXYING) {
            more();
        }
    }

    /** The client can take more response again. */
    public void onDownstreamWritable() {
        if (state == State.PROXYING && upstream != null) {
            upstream.reading(true);
        }
    }

    @Override
    public void onResponse(HttpObject part) {
        if (state != State.PROXYING) {
            ReferenceCountUtil.release(part);
            return;
        }
        lastActivity = System.nanoTime();
        if (part instanceof HttpResponse response) {
            if (!responseHead(response)) {
                return;
            }
        } else if (skipInformational) {
            skipInformational = !(part instanceof LastHttpContent);
            ReferenceCountUtil.release(part);
            return;
        } else if (part instanceof LastHttpContent) {
            down.write(part);
            unflushed = false;
        } else {
            down.writeLater(part); // flushed when this read batch ends (onUpstreamReadComplete)
            unflushed = true;
        }
        if (part instanceof HttpContent body) {
            bytesOut += body.content().readableBytes();
            if (body instanceof LastHttpContent last) {
                String trailer = last.trailingHeaders().get(GRPC_STATUS);
                if (trailer != null) {
                    grpcStatus = trailer;
                }
                responseComplete = true;
                finishIfDone();
                return;
            }
        }
        if (!down.isWritable()) {
            upstream.reading(false); // resumed by onDownstreamWritable
        }
    }

    /** Handles a response head; false when it was consumed here (informational, or refused). */
    private boolean responseHead(HttpResponse response) {
        if (response.decoderResult().isFailure()) {
            ReferenceCountUtil.release(response);
            failUpstream(LocalReply.upstreamProtocolError(), ResponseFlag.UPSTREAM_PROTOCOL_ERROR);
            return false;
        }
        int code = response.status().code();
        if (code == 101) {
            // We never asked to switch protocols (upgrade headers are stripped): not valid here (CVE-2024-23326).
            ReferenceCountUtil.release(response);
            failUpstream(LocalReply.upstreamProtocolError(), ResponseFlag.UPSTREAM_PROTOCOL_ERROR);
            return false;
        }
        if (code < 200) {
            // 1xx: the client's 100-continue was answered by us; interim responses are not passed on.
            skipInformational = !(response instanceof LastHttpContent);
            ReferenceCountUtil.release(response);
            return false;
        }
        responseStarted = true;
        status = code;
        HttpHeaders headers = response.headers();
        if (http1) {
            upstreamKeepAlive = HttpUtil.isKeepAlive(response);
            headers.remove(HttpHeaderNames.CONNECTION);
            headers.remove(HttpHeaderNames.KEEP_ALIVE);
            headers.remove(HttpHeaderNames.PROXY_CONNECTION);
            headers.remove(HttpHeaderNames.UPGRADE);
        } // An HTTP/2 upstream's fields were checked by its decoder: it refuses these connection-specific ones.
        String g = headers.get(GRPC_STATUS);
        if (g != null) {
            grpcStatus = g; // trailers-only response
        }
        request.applyResponseEdits(headers); // ext_authz headersToDownstreamOnAllow, x-ratelimit-*
        if (http1) {
            response.setProtocolVersion(HttpVersion.HTTP_1_1);
            if (!clientKeepAlive) {
                headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
        }
        if (response instanceof LastHttpContent) {
            down.write(response);
            unflushed = false;
        } else {
            down.writeLater(response); // the body usually follows in the same read batch
            unflushed = true;
        }
        return true;
    }

    @Override
    public void onUpstreamReadComplete() {
        if (unflushed) {
            unflushed = false;
            down.flush();
        }
    }

    @Override
    public void onUpstreamClosed(Throwable cause) {
        if (state != State.PROXYING) {
            return;
        }
        upstream = null;
        if (!responseStarted) {
            answer(cause instanceof Upstream.Refused ? LocalReply.upstreamRefused() : LocalReply.upstreamReset());
        } else {
            flag = ResponseFlag.UPSTREAM_CONNECTION_TERMINATION;
            down.abort();
            complete();
        }
    }

    /**
     * A request part the client's framing broke (a bad chunk size, a chunk too large): the request can
     * neither go on nor be ended as if it were whole. 400 while no response has started, else both sides
     * are cut; the upstream never gets the end of the body. Takes {@code part}.
     */
    public void onRequestMalformed(HttpContent part) {
        Throwable cause = part.decoderResult().cause();
        ReferenceCountUtil.release(part);
        if (state == State.DONE) {
            return;
        }
        failUpstream(
                LocalReply.badRequest(cause == null ? "malformed request body" : cause.getMessage()),
                ResponseFlag.DOWNSTREAM_PROTOCOL_ERROR);
    }

    /**
     * The client did not send the rest of its request body in time (the HTTP/1.1 server's body timer, the
     * slow-body defence): 408 and close, as Envoy's {@code request_timeout}; a reset once the response began.
     */
    public void onRequestTimeout() {
        if (state == State.DONE) {
            return;
        }
        failUpstream(
                new LocalReply(408, "request timeout", null, ResponseFlag.STREAM_IDLE_TIMEOUT, true),
                ResponseFlag.STREAM_IDLE_TIMEOUT);
    }

    /** The client went away (connection closed, stream reset). */
    public void onDownstreamClosed() {
        if (state == State.DONE) {
            return;
        }
        flag = ResponseFlag.DOWNSTREAM_CONNECTION_TERMINATION;
        if (upstream != null) {
            upstream.abort();
            upstream = null;
        }
        complete();
    }

    private void failUpstream(LocalReply reply, ResponseFlag why) {
        if (upstream != null) {
            upstream.abort();
            upstream = null;
        }
        if (!responseStarted) {
            answer(reply);
        } else {
            flag = why;
            down.abort();
            complete();
        }
    }

    // ---- phase 5: complete

    private void finishIfDone() {
        if (state != State.PROXYING || !responseComplete) {
            return;
        }
        boolean reusable = requestSent && upstreamKeepAlive;
        Upstream u = upstream;
        upstream = null;
        u.release(reusable);
        complete();
        // Answered before the client finished its body: an HTTP/1.1 connection cannot find the next request.
        down.exchangeDone(clientKeepAlive && requestComplete);
    }

    /** Answers locally: the one place where a refusal or failure becomes a response. */
    private void answer(LocalReply reply) {
        if (state == State.DONE) {
            return;
        }
        if (upstream != null) {
            upstream.abort();
            upstream = null;
        }
        flag = reply.flag() != ResponseFlag.NONE ? reply.flag() : flag;
        if (reply.status() == 499 || !down.isActive()) {
            flag = ResponseFlag.DOWNSTREAM_CONNECTION_TERMINATION;
            complete();
            down.abort();
            return;
        }
        // An unread body makes an HTTP/1.1 connection unusable for the next request; a head that declares no
        // body only has the decoder's empty end left, which the connection drops before the next head.
        boolean close = reply.closeConnection() || !(requestComplete || declaresNoBody()) || !clientKeepAlive;
        FullHttpResponse response = Replies.toResponse(reply, grpc, http1 && close, down.alloc());
        status = response.status().code(); // gRPC: 200 with grpc-status, as Envoy reports it
        if (grpc) {
            grpcStatus = Integer.toString(reply.grpcStatus());
        }
        bytesOut += response.content().readableBytes();
        down.write(response);
        complete();
        down.exchangeDone(!close);
    }

    private boolean declaresNoBody() {
        return http1 && !HttpUtil.isTransferEncodingChunked(head) && HttpUtil.getContentLength(head, 0L) == 0L;
    }

    private void complete() {
        if (state == State.DONE) {
            return;
        }
        state = State.DONE;
        cancelTimer();
        if (bodyRead != null && !bodyRead.isDone()) {
            bodyRead.completeExceptionally(new IllegalStateException("the request ended before its body was read"));
        }
        for (HttpContent c; (c = pending.poll()) != null; ) {
            ReferenceCountUtil.release(c);
        }
        if (!headWritten) {
            ReferenceCountUtil.release(head); // a full request (HTTP/2 HEADERS with END_STREAM) never sent up
        }
        services.observer()
                .completed(new RequestRecord(
                        start,
                        System.nanoTime() - startNanos,
                        down.protocol(),
                        grpc,
                        head.method().name(),
                        authority,
                        request != null ? request.path() : head.uri(),
                        status,
                        grpcStatus,
                        flag,
                        bytesIn,
                        bytesOut,
                        tunnel.peer(),
                        tunnel.target(),
                        endpoint,
                        request != null ? request.decision() : null,
                        requestId,
                        head.headers().get(HttpHeaderNames.USER_AGENT),
                        trace));
    }

    // ---- timers: connect timeout, then request timeout and stream idle timeout

    private long idleNanos() {
        return services.route().streamIdleTimeout().toNanos();
    }

    private void armTimer(long nanos) {
        deadlines.arm(this, nanos);
    }

    private void cancelTimer() {
        if (deadlines != null) {
            deadlines.cancel(this);
        }
    }

    @Override
    protected void expired() {
        long now = System.nanoTime();
        switch (state) {
            case CONNECTING -> answer(LocalReply.upstreamConnectFailure("connect timeout"));
            case PROXYING -> {
                long requestTimeout = services.route().requestTimeout().toNanos();
                boolean overall = requestTimeout > 0 && now - startNanos >= requestTimeout;
                long idleLeft = idleNanos() - (now - lastActivity);
                if (!overall && idleLeft > 0) {
                    long untilOverall = requestTimeout > 0 ? requestTimeout - (now - startNanos) : Long.MAX_VALUE;
                    armTimer(Math.min(idleLeft, untilOverall));
                    return;
                }
                failUpstream(
                        overall
                                ? LocalReply.upstreamTimeout()
                                : new LocalReply(408, "stream timeout", null, ResponseFlag.STREAM_IDLE_TIMEOUT, true),
                        overall ? ResponseFlag.UPSTREAM_REQUEST_TIMEOUT : ResponseFlag.STREAM_IDLE_TIMEOUT);
            }
            default -> {}
        }
    }

    private static String reason(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        String m = cause.getMessage();
        return cause.getClass().getSimpleName() + (m == null ? "" : ": " + clip(m));
    }

    private static boolean startsWith(String value, String prefix) {
        return value != null && value.toLowerCase(Locale.ROOT).startsWith(prefix);
    }

    private static String clip(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}
